"""The executor interface: runs one validated tool call against its real service."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import BaseModel, Field

from core.domain import Tool


@dataclass(frozen=True)
class CallContext:
    """Who is calling and why; the executor derives keys and credentials from it."""

    run_id: str
    step_index: int
    call_index: int
    tenant: str = "default"
    idempotency_key: str | None = None
    capability_token: str | None = None
    traceparent: str | None = None
    renew_capability: Callable[[], str | None] | None = field(default=None, compare=False)
    """Mints a fresh capability token for this same call; an executor that presents tokens
    to the service asks for one per request after the first (a retry or redirect hop is a
    new request, and services refuse a token seen before)."""


class ExecutionResult(BaseModel):
    """The outcome of one tool call (an HTTP status, or the status an executor of another
    wire reports in its place). Errors are data here; only misuse raises."""

    status_code: int | None = None
    body: Any = None
    headers: dict[str, str] = Field(default_factory=dict)
    valid: bool | None = None
    """Whether the body matched the tool's response schema (``None``: no schema)."""
    validation_errors: list[str] = Field(default_factory=list)
    error: str | None = None
    attempts: int = 1
    elapsed_ms: float = 0.0
    retry_after: float | None = None
    """Seconds the server asked to wait (``Retry-After`` on 429/503), when it was not waited."""
    retryable: bool = False
    """Whether the same call may be tried again later without risk of repeating a side
    effect (a safe or keyed call that failed transiently, or a connection never made)."""
    refused: str | None = None
    """Why the executor refused to send the call at all (capability check, a target outside
    the tool's base URL, arguments that cannot be put on the wire); nothing was sent."""

    @property
    def ok(self) -> bool:
        return self.error is None and self.status_code is not None and self.status_code < 400


def refused(reason: str) -> ExecutionResult:
    """The result of a call refused before anything was sent."""
    return ExecutionResult(error=f"refused: {reason}", refused=reason, attempts=0)


class Executor(Protocol):
    def execute(self, tool: Tool, args: dict[str, Any], ctx: CallContext) -> ExecutionResult:
        """Run the call; network and HTTP failures come back in the result."""
        ...
