"""What one ``Orchestrator.advance`` did: why the engine stopped, and the run as it stands.

Each kind is a small frozen dataclass carrying the run (``outcome.run``), so a caller can
``match`` on it and read what that kind adds (a handoff's target, a throttle's delay)::

    match orchestrator.advance(run_id, expected_version=version, max_steps=5):
        case HandedOff(run, target): ...
        case Throttled(run, delay, reason): ...  # put it back on the queue for ``delay`` s
        case Yielded(run): ...  # still running: send the next message
        case other: ...  # other.run.status says where it rests

``outcome.kind`` names the kind as a string for logs and spans.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar, TypeAlias

from core.domain import Run, RunStatus
from core.errors import BudgetSpent


class Stop(StrEnum):
    """Why the engine stopped advancing a run."""

    FINISHED = "finished"
    PAUSED = "paused"
    WAITING = "waiting"
    HANDED_OFF = "handed_off"
    LOST_RACE = "lost_race"
    THROTTLED = "throttled"
    STALE = "stale"
    YIELDED = "yielded"


@dataclass(frozen=True)
class Finished:
    """The run ended: succeeded, needs review, failed or was killed (``run.status`` says
    which)."""

    run: Run
    kind: ClassVar[Stop] = Stop.FINISHED


@dataclass(frozen=True)
class Paused:
    """The run waits for a human decision; deciding it makes the run ready to advance."""

    run: Run
    kind: ClassVar[Stop] = Stop.PAUSED


@dataclass(frozen=True)
class Waiting:
    """The run waits for its child runs; the last one to finish wakes it."""

    run: Run
    kind: ClassVar[Stop] = Stop.WAITING


@dataclass(frozen=True)
class HandedOff:
    """The next calls belong to ``target``'s cloud: the orchestrator's handoff hook passed the
    run to that cloud's worker, which continues it."""

    run: Run
    target: str
    kind: ClassVar[Stop] = Stop.HANDED_OFF


@dataclass(frozen=True)
class LostRace:
    """Another writer moved the run on first (a checkpoint conflict, a claim still within its
    lease, a child that woke the parent): that writer carries the run forward. ``run`` is as
    the store holds it when the conflict was seen."""

    run: Run
    kind: ClassVar[Stop] = Stop.LOST_RACE


@dataclass(frozen=True)
class Throttled:
    """No budget now: a shared rate limit is spent, or a tool or the model answered 429/503
    with Retry-After. Nothing that was not checkpointed went out; advance the run again after
    ``delay`` seconds."""

    run: Run
    delay: float
    """Seconds to wait before advancing again (at least 0)."""
    reason: str
    kind: ClassVar[Stop] = Stop.THROTTLED


@dataclass(frozen=True)
class Stale:
    """The stored run is not at ``expected_version`` (a duplicate or old message): it was
    left untouched."""

    run: Run
    expected_version: int
    kind: ClassVar[Stop] = Stop.STALE


@dataclass(frozen=True)
class Yielded:
    """Still running after ``max_steps`` planned steps: advance it again to go on."""

    run: Run
    kind: ClassVar[Stop] = Stop.YIELDED


AdvanceOutcome: TypeAlias = (
    Finished | Paused | Waiting | HandedOff | LostRace | Throttled | Stale | Yielded
)
"""What ``Orchestrator.advance`` returns."""


def resting(run: Run) -> AdvanceOutcome | None:
    """The outcome a run's status alone implies (finished, paused, waiting), else ``None``:
    the engine has more to do."""
    if run.status.finished:
        return Finished(run)
    if run.status is RunStatus.AWAITING_APPROVAL:
        return Paused(run)
    if run.status is RunStatus.WAITING:
        return Waiting(run)
    return None


def run_unless_throttled(outcome: AdvanceOutcome) -> Run:
    """The outcome's run, for callers that advance in-process with no queue to put a run
    back on (the CLI, the MCP server): a throttle raises ``BudgetSpent`` with its reason."""
    if isinstance(outcome, Throttled):
        raise BudgetSpent(outcome.reason, retry_after=outcome.delay)
    return outcome.run
