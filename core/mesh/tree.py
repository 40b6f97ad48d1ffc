"""A run and its descendants as one tree: walking it, its pending approvals (surfaced on the
waiting ancestors), deciding them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from core.domain import Approval, CallRecord, Run, RunStatus, Step
from core.domain.observer import RunObserver
from core.errors import ConflictError, NotFoundError
from core.orchestrator.engine import Orchestrator
from core.state.base import RunStore


@dataclass(frozen=True)
class Node:
    run: Run
    depth: int


def walk(store: RunStore, run_id: str, *, depth: int = 0) -> Iterator[Node]:
    """The run, then each child's subtree in spawn order (runs missing from the store are
    skipped)."""
    try:
        run = store.get_run(run_id)
    except NotFoundError:
        return
    yield Node(run, depth)
    for ref in run.children:
        yield from walk(store, ref.id, depth=depth + 1)


def pending_approvals(store: RunStore, run_id: str) -> list[tuple[Run, Approval]]:
    """Every pending approval in the tree under ``run_id``, with the run that raised it:
    approvals raised inside child runs surface on the parent."""
    return [(node.run, a) for node in walk(store, run_id) for a in node.run.pending_approvals]


def decide(
    orchestrator: Orchestrator,
    root_id: str,
    approval_id: str,
    *,
    approver: str,
    approve: bool,
    comment: str | None = None,
) -> Run:
    """Decide an approval anywhere in the tree under ``root_id``; returns the run that held it.

    Raises ``NotFoundError`` when no run of the tree holds that approval.
    """
    for run, approval in pending_approvals(orchestrator.store, root_id):
        if approval.id == approval_id:
            return orchestrator.decide(
                run.id, approval_id, approver=approver, approve=approve, comment=comment
            )
    raise NotFoundError(f"no pending approval {approval_id} in run {root_id} or its children")


def surface_approvals(store: RunStore, child: Run, *, attempts: int = 5) -> None:
    """Say on every waiting ancestor of ``child`` that it waits for ``child``'s approvals:
    the ancestor's ``reason`` names them, and its record of the child shows the pause."""
    if child.parent_id is None or not child.pending_approvals:
        return
    pending = ", ".join(f"{a.id} ({a.tool})" for a in child.pending_approvals)
    reason = (
        f"waiting for child run {child.id} ({child.agent or 'run'}): approval {pending} pending"
    )
    run_id: str | None = child.parent_id
    while run_id is not None:
        parent = _note(store, run_id, child.id, reason, attempts)
        run_id = parent.parent_id if parent is not None else None


def _note(store: RunStore, run_id: str, child_id: str, reason: str, attempts: int) -> Run | None:
    for _ in range(attempts):
        try:
            parent = store.get_run(run_id, with_steps=False)
        except NotFoundError:
            return None
        if parent.status is not RunStatus.WAITING:
            return parent
        parent.reason = reason
        for ref in parent.children:
            if ref.id == child_id:
                ref.status = RunStatus.AWAITING_APPROVAL
        try:
            return store.checkpoint(parent, expected_version=parent.version)
        except ConflictError:
            continue
    return None


class SurfacingObserver:
    """Passes every event on to ``inner``; when a child run pauses for approval, its waiting
    ancestors say so (:func:`surface_approvals`)."""

    def __init__(self, inner: RunObserver, store: RunStore) -> None:
        self.inner = inner
        self._store = store

    def step_planned(self, run: Run, step: Step) -> None:
        self.inner.step_planned(run, step)

    def call_decided(self, run: Run, step: Step, call: CallRecord) -> None:
        self.inner.call_decided(run, step, call)

    def call_finished(self, run: Run, step: Step, call: CallRecord) -> None:
        self.inner.call_finished(run, step, call)

    def run_paused(self, run: Run) -> None:
        self.inner.run_paused(run)
        surface_approvals(self._store, run)

    def run_finished(self, run: Run) -> None:
        self.inner.run_finished(run)
