"""Paddock's HTTP API, defined once: models, routes, auth, one handler, the queue worker.

The cloud adapters (``functions/aws``, ``functions/azure``) translate their events to an
``ApiRequest``, call ``handle`` and render the ``ApiResponse``; their queue triggers call
``process_body`` (both through ``core.entry``, which also mounts the web console). Names are
imported on first use (PEP 562), so importing this package costs nothing at cold start.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.api.auth import (
        ROLE_ADMIN,
        ROLE_APPROVER,
        ROLE_PLATFORM_OPERATOR,
        Authenticator,
        JwtAuthenticator,
        Principal,
        authenticator_from_settings,
    )
    from core.api.deps import Deps
    from core.api.errors import ApiError, ErrorBody
    from core.api.handler import ApiHandler
    from core.api.http import ApiRequest, ApiResponse
    from core.api.models import MAX_BODY_BYTES, StartRunRequest
    from core.api.worker import (
        Outcome,
        QueueHandoff,
        Worker,
        WorkOutcome,
        process_envelope,
    )

_WHERE = {
    "ROLE_ADMIN": "auth",
    "ROLE_APPROVER": "auth",
    "ROLE_PLATFORM_OPERATOR": "auth",
    "Authenticator": "auth",
    "JwtAuthenticator": "auth",
    "Principal": "auth",
    "authenticator_from_settings": "auth",
    "Deps": "deps",
    "ApiError": "errors",
    "ErrorBody": "errors",
    "ApiHandler": "handler",
    "ApiRequest": "http",
    "ApiResponse": "http",
    "MAX_BODY_BYTES": "models",
    "StartRunRequest": "models",
    "Outcome": "worker",
    "QueueHandoff": "worker",
    "Worker": "worker",
    "WorkOutcome": "worker",
    "process_envelope": "worker",
}

__all__ = [
    "MAX_BODY_BYTES",
    "ROLE_ADMIN",
    "ROLE_APPROVER",
    "ROLE_PLATFORM_OPERATOR",
    "ApiError",
    "ApiHandler",
    "ApiRequest",
    "ApiResponse",
    "Authenticator",
    "Deps",
    "ErrorBody",
    "JwtAuthenticator",
    "Outcome",
    "Principal",
    "QueueHandoff",
    "StartRunRequest",
    "WorkOutcome",
    "Worker",
    "authenticator_from_settings",
    "process_envelope",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'core.api' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"core.api.{module}"), name)
    globals()[name] = value
    return value
