"""API errors: one JSON shape, `{"error": {"code", "message", "details", "correlation_id"}}`."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from core.api.http import ApiResponse, json_response
from core.errors import (
    BackendError,
    ConfigError,
    ConflictError,
    NotFoundError,
    PaddockError,
    SpecError,
)


class ErrorDetail(BaseModel):
    code: str
    """Stable, machine-readable: `not_found`, `validation_error`, `unauthorized`..."""
    message: str
    """What went wrong, for a human."""
    details: list[dict[str, Any]] = Field(default_factory=list)
    """Per-field problems (`loc`, `msg`, `type`) for validation errors."""
    correlation_id: str | None = None
    """Quote this when reporting a problem; it is in the server's logs."""


class ErrorBody(BaseModel):
    error: ErrorDetail


class ApiError(PaddockError):
    """An error the API reports to its caller with a status code and a stable code."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.details = details or []
        self.headers = headers or {}

    def response(self, correlation_id: str | None) -> ApiResponse:
        body = ErrorBody(
            error=ErrorDetail(
                code=self.code,
                message=self.message,
                details=self.details,
                correlation_id=correlation_id,
            )
        )
        return json_response(self.status, body, self.headers)


def unauthorized(message: str) -> ApiError:
    return ApiError(
        401, "unauthorized", message, headers={"www-authenticate": 'Bearer error="invalid_token"'}
    )


def forbidden(message: str) -> ApiError:
    return ApiError(403, "forbidden", message)


def not_found(message: str) -> ApiError:
    return ApiError(404, "not_found", message)


def from_paddock_error(exc: PaddockError) -> ApiError:
    """Translate a core error into what the caller sees; unknown families are 500s."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, NotFoundError):
        return not_found(exc.message)
    if isinstance(exc, ConflictError):
        return ApiError(409, "conflict", exc.message)
    if isinstance(exc, ConfigError | SpecError):
        return ApiError(422, "invalid_request", exc.message)
    if isinstance(exc, BackendError):
        headers = {"retry-after": str(int(exc.retry_after or 1))}
        return ApiError(
            503,
            "backend_unavailable",
            "the state or queue backend is unavailable; retry later",
            headers=headers,
        )
    return ApiError(500, "internal_error", "internal error")
