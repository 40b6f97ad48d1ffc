"""Hooks the identity layer plugs into the executor: credentials out, capability tokens in."""

from __future__ import annotations

from typing import Any, Protocol

import httpx

from core.domain import Tool
from core.execution.base import CallContext

CAPABILITY_HEADER = "Paddock-Capability"
"""The request header an executor presents the call's capability token in, when asked to."""


class RequestAuthorizer(Protocol):
    """Adds credentials to an outgoing request, just before it is sent.

    Called once per attempt (so signatures and short-lived tokens stay fresh) with the fully
    built request: method, URL with query, headers and body. It may add headers or query
    parameters; the executor checks the target again afterwards, so an authorizer cannot
    send the call elsewhere. Raise a ``PaddockError`` when no credential can be obtained.
    """

    def authorize(self, tool: Tool, request: httpx.Request, ctx: CallContext) -> None: ...


class CallVerifier(Protocol):
    """Checks that a call may run at all (e.g. its capability token) before anything is sent.

    Returns ``None`` to accept, or the reason for refusing, which the result carries.
    """

    def verify(self, tool: Tool, args: dict[str, Any], ctx: CallContext) -> str | None: ...


class NoAuthorizer:
    """Sends requests as built, with no credentials."""

    def authorize(self, tool: Tool, request: httpx.Request, ctx: CallContext) -> None:
        return None


class AcceptAllVerifier:
    """Accepts every call; the default until capability tokens are configured."""

    def verify(self, tool: Tool, args: dict[str, Any], ctx: CallContext) -> str | None:
        return None
