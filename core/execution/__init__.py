"""Executing tool calls: the executor interface, the router by binding kind, the HTTP
executor and its hooks."""

from __future__ import annotations

from core.domain import canonical_args_hash, canonical_json, idempotency_key
from core.execution._schema import validate_body
from core.execution.base import CallContext, ExecutionResult, Executor
from core.execution.hooks import (
    AcceptAllVerifier,
    CallVerifier,
    NoAuthorizer,
    RequestAuthorizer,
)
from core.execution.http import HttpExecutor
from core.execution.router import BindingRouter

__all__ = [
    "AcceptAllVerifier",
    "BindingRouter",
    "CallContext",
    "CallVerifier",
    "ExecutionResult",
    "Executor",
    "HttpExecutor",
    "NoAuthorizer",
    "RequestAuthorizer",
    "canonical_args_hash",
    "canonical_json",
    "idempotency_key",
    "validate_body",
]
