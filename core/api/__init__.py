"""Paddock's HTTP API, defined once: models, routes, auth, one handler, the queue worker.

The cloud adapters (``functions/aws``, ``functions/azure``) translate their events to an
``ApiRequest``, call ``ApiHandler.handle`` and render the ``ApiResponse``; their queue triggers
call ``Worker.process``. ``LocalIssuer`` (local OIDC issuer) and ``core.api.devserver`` are
imported on demand: they pull in a web server the handlers do not need.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.api.auth import (
    ROLE_ADMIN,
    ROLE_APPROVER,
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
    poll,
    process_envelope,
)

if TYPE_CHECKING:
    from core.api.dev_issuer import LocalIssuer

__all__ = [
    "MAX_BODY_BYTES",
    "ROLE_ADMIN",
    "ROLE_APPROVER",
    "ApiError",
    "ApiHandler",
    "ApiRequest",
    "ApiResponse",
    "Authenticator",
    "Deps",
    "ErrorBody",
    "JwtAuthenticator",
    "LocalIssuer",
    "Outcome",
    "Principal",
    "QueueHandoff",
    "StartRunRequest",
    "WorkOutcome",
    "Worker",
    "authenticator_from_settings",
    "poll",
    "process_envelope",
]


def __getattr__(name: str) -> Any:
    if name == "LocalIssuer":
        from core.api.dev_issuer import LocalIssuer

        return LocalIssuer
    raise AttributeError(f"module 'core.api' has no attribute {name!r}")
