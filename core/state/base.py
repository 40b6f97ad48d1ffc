"""The ``RunStore`` contract shared by every state backend.

A run is stored as a small *head* (the ``Run`` without its steps) plus one record per step.
A checkpoint writes only the steps it names and the head, conditionally on the head's version,
so the cost of a step does not grow with the length of the run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from core.domain import Run, RunStatus, Step


@dataclass(frozen=True)
class RunPage:
    runs: list[Run]
    """Heads only (``steps`` empty)."""
    cursor: str | None = None
    """Pass back to get the next page; ``None`` when there is none."""


@dataclass(frozen=True)
class Counter:
    """A small shared record for rate limits: its value and its concurrency token."""

    name: str
    value: dict[str, float]
    etag: str | None
    """``None`` when the counter does not exist yet."""


KILL_GLOBAL = "global"


def kill_scope_tenant(tenant: str) -> str:
    return f"tenant:{tenant}"


def kill_scope_run(run_id: str) -> str:
    return f"run:{run_id}"


@runtime_checkable
class RunStore(Protocol):
    """Durable, concurrency-safe run state. Every stale write raises ``ConflictError``."""

    def create_run(self, run: Run) -> Run:
        """Store a new run at version 1 (with any steps it already has).

        Raises ``ConflictError`` when a run with that id exists.
        """
        ...

    def get_run(self, run_id: str, *, with_steps: bool = True) -> Run:
        """The run with its steps in order. Raises ``NotFoundError``."""
        ...

    def checkpoint(self, run: Run, *, expected_version: int, steps: Sequence[Step] = ()) -> Run:
        """Write ``steps`` (upsert by index) and the head, if the stored version is
        ``expected_version``. Returns the run at ``expected_version + 1``.

        Raises ``ConflictError`` when the stored version differs.
        """
        ...

    def list_runs(
        self,
        *,
        status: RunStatus | None = None,
        tenant: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> RunPage:
        """Heads, newest first, filtered by status and/or tenant."""
        ...

    def set_kill(self, scope: str, reason: str) -> None:
        """Raise a kill flag: ``global``, ``tenant:<id>`` or ``run:<id>``."""
        ...

    def clear_kill(self, scope: str) -> None:
        """Lower a kill flag; lowering one that is not raised is fine."""
        ...

    def kill_reason(self, *, tenant: str, run_id: str) -> str | None:
        """Why this run must stop now, if any flag covering it is raised."""
        ...

    def put_idempotency(self, key: str, value: str, *, ttl_seconds: int = 86400) -> str:
        """Record ``value`` under ``key`` unless a record exists; return the stored value."""
        ...

    def get_counter(self, name: str) -> Counter:
        """A rate-limit counter (empty ``value`` and ``etag=None`` when absent)."""
        ...

    def put_counter(self, name: str, value: dict[str, float], *, etag: str | None) -> str:
        """Write a counter if its etag is still ``etag`` (``None``: must not exist).

        Returns the new etag; raises ``ConflictError`` on a stale etag.
        """
        ...
