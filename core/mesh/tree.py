"""A run and its descendants as one tree: walking it, its pending approvals, deciding them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from core.errors import NotFoundError
from core.orchestrator.engine import Orchestrator
from core.orchestrator.models import Approval, Run
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


def decide(orchestrator: Orchestrator, root_id: str, approval_id: str, *, approver: str,
           approve: bool, comment: str | None = None) -> Run:
    """Decide an approval anywhere in the tree under ``root_id``; returns the run that held it.

    Raises ``NotFoundError`` when no run of the tree holds that approval.
    """
    for run, approval in pending_approvals(orchestrator.store, root_id):
        if approval.id == approval_id:
            return orchestrator.decide(run.id, approval_id, approver=approver, approve=approve,
                                       comment=comment)
    raise NotFoundError(f"no pending approval {approval_id} in run {root_id} or its children")
