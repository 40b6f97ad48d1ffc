"""Whether a child run must stop because a run above it was stopped.

``Orchestrator.kill`` raises the run's kill flag *before* it marks the run killed and kills the
children it can see. A child spawned (or launched beyond the concurrency cap) while that kill
is under way is not among them; it finds the flag of its parent, or of any run above it, here
before every step and every call, so it never acts for a run that was stopped.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.domain import Run
from core.errors import NotFoundError
from core.state.base import RunStore

MAX_DEPTH = 32
"""Runs looked up above a child at most (a guard against a cycle of bad parent ids; grants
shrink by one level each, so real trees are far shallower)."""


@dataclass(frozen=True)
class Lineage:
    """The runs above one run, nearest first, as read at the start of an advance."""

    ancestors: tuple[str, ...] = ()
    stopped: str | None = None
    """Why the run must stop: a run above it already finished (killed, failed...)."""


def lineage(store: RunStore, run: Run) -> Lineage:
    """Walk up ``run``'s parents: one head read per level (none for a top-level run).

    A parent missing from ``store`` ends the walk: whatever holds it (another cloud's store)
    is not known here, and the worker already drops messages of runs whose parent is gone.
    """
    ancestors: list[str] = []
    parent_id = run.parent_id
    while parent_id is not None and parent_id not in ancestors and len(ancestors) < MAX_DEPTH:
        try:
            parent = store.get_run(parent_id, with_steps=False)
        except NotFoundError:
            break
        ancestors.append(parent.id)
        if parent.status.finished:
            return Lineage(tuple(ancestors), f"{_name(run, parent.id)} is {parent.status.value}")
        parent_id = parent.parent_id
    return Lineage(tuple(ancestors))


def ancestor_killed(store: RunStore, run: Run, found: Lineage) -> str | None:
    """Why ``run`` must stop now because the kill flag of a run above it is raised."""
    for ancestor in found.ancestors:
        reason = store.kill_reason(tenant=run.tenant, run_id=ancestor)
        if reason is not None:
            return f"{_name(run, ancestor)} stopped: {reason}"
    return None


def _name(run: Run, ancestor: str) -> str:
    return f"{'parent' if ancestor == run.parent_id else 'ancestor'} {ancestor}"
