"""Run a mesh in one process: in-memory queues per cloud, drained until the tree settles.

The queue worker (:func:`core.api.worker.process_envelope`) does the work, as it does in the
cloud; here one loop plays every cloud's queue trigger. With one orchestrator per cloud
(``orchestrators``), calls are handed between clouds as in a deployment.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from core.api.worker import process_envelope
from core.domain import Approval, Run, RunStatus
from core.orchestrator.engine import Orchestrator
from core.queue.base import Envelope, TaskQueue
from core.queue.memory import MemoryQueue

CLOUDS = ("aws", "azure", "local")
Decider = Callable[[Run, Approval], "tuple[bool, str, str | None] | None"]
"""Decides a pending approval: (approve, approver, comment), or None to leave it pending."""


def memory_queues() -> dict[str, TaskQueue]:
    return {cloud: MemoryQueue() for cloud in CLOUDS}


class LocalMesh:
    """Drives a root run and its child runs to completion through the queues.

    Args:
        orchestrators: the orchestrator of each cloud whose queue this loop drains; one
            ``local`` orchestrator serves every queue when it is the only one.
        queues: the queue of each cloud (the ones the orchestrators' children and handoff use).
    """

    def __init__(
        self, orchestrators: Mapping[str, Orchestrator], queues: Mapping[str, TaskQueue]
    ) -> None:
        self.orchestrators = dict(orchestrators)
        self.queues = dict(queues)

    def _orchestrator(self, cloud: str) -> Orchestrator:
        return self.orchestrators.get(cloud) or self.orchestrators["local"]

    @property
    def root(self) -> Orchestrator:
        return next(iter(self.orchestrators.values()))

    def start(self, run: Run, *, cloud: str | None = None) -> Run:
        """Create the run and put it on the queue of ``cloud`` (default: the first
        orchestrator's)."""
        orchestrator = self._orchestrator(cloud) if cloud else self.root
        created = orchestrator.create(run)
        target = cloud or orchestrator.cloud
        self.queues[target].send(
            Envelope.model_validate(
                {
                    "run_id": created.id,
                    "expected_version": created.version,
                    "target": target,
                    "traceparent": created.traceparent,
                }
            )
        )
        return created

    def drain(self, *, limit: int = 1000) -> int:
        """Process queued envelopes until every queue is empty; returns how many."""
        done = 0
        for _ in range(limit):
            busy = False
            for cloud, queue in self.queues.items():
                for message in queue.receive(max_messages=10):
                    busy = True
                    process_envelope(message.envelope, self._orchestrator(cloud), self.queues)
                    queue.ack(message)
                    done += 1
            if not busy:
                return done
        raise RuntimeError(f"the queues did not drain after {limit} rounds")

    def requeue(self, run: Run) -> None:
        """Put a run back on its owner's queue (after an approval was decided)."""
        target = run.owner if run.owner in self.queues else self.root.cloud
        self.queues[target].send(
            Envelope.model_validate(
                {
                    "run_id": run.id,
                    "expected_version": run.version,
                    "target": target,
                    "traceparent": run.traceparent,
                }
            )
        )

    def run_until_settled(
        self,
        run_id: str,
        *,
        decide: Decider | None = None,
        on_decided: Callable[[Run, Approval, bool], None] | None = None,
        limit: int = 50,
    ) -> Run:
        """Drain, decide pending approvals anywhere in the tree with ``decide``, repeat until
        the root run finishes or waits on an approval nobody decided."""
        from core.mesh.tree import pending_approvals

        store = self.root.store
        for _ in range(limit):
            self.drain()
            root = store.get_run(run_id)
            if root.status.finished:
                return root
            pending = pending_approvals(store, run_id)
            if not pending or decide is None:
                return root
            progressed = False
            for holder, approval in pending:
                verdict = decide(holder, approval)
                if verdict is None:
                    continue
                ok, approver, comment = verdict
                decided = self._orchestrator(holder.owner or "local").decide(
                    holder.id, approval.id, approver=approver, approve=ok, comment=comment
                )
                if on_decided is not None:
                    on_decided(holder, approval, ok)
                if decided.status is RunStatus.RUNNING:
                    self.requeue(decided)
                progressed = True
            if not progressed:
                return store.get_run(run_id)
        return store.get_run(run_id)
