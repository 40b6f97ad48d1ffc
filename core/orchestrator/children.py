"""Child runs: a run fans work out to sub-runs through the task queue and waits for them
without holding a worker.

How it fits together:

1. The planner proposes a call that a *resolver* turns into child specs — the built-in
   ``spawn_subtasks`` tool (:func:`subtask_tool`), or any tool a caller registers (delegation
   to a domain agent). The call is guarded like every other call.
2. The orchestrator hands such calls to :meth:`ChildRuns.spawn`: the children are created (ids
   derived from the parent, the step and the call, so a retried spawn creates nothing twice),
   up to ``Budget.max_running_children`` of them are sent to their queue, and the parent is
   checkpointed as ``waiting``. The worker then lets the parent go.
3. A child that finishes sends ``child_done`` to its parent's queue
   (:meth:`ChildRuns.child_finished`). The worker calls :meth:`ChildRuns.collect`, which adds
   the child to the step's fan-in ledger (``core.orchestrator._ledger``: one small record, so
   a finishing child never rewrites a parent holding a thousand child references), launches
   the next ones under the cap (the only time the parent's head is rewritten) and, once the
   ledger holds every child of the step, reads each child once, writes each call's result
   (every child's status, result and error: a failed child is reported, never lost) and sets
   the parent running again.
   Exactly one worker plans the woken parent: the one whose compare-and-swap set it running
   (this ``collect`` or the spawner's own, for children that finished before the parent was
   checkpointed ``waiting``).
4. Killing the parent kills its unfinished children (``Orchestrator.kill``). A child the kill
   could not see (spawned or launched while it was under way) stops before any step or call
   once the kill flag of any run above it is raised (``core.orchestrator._lineage``), and a
   spawn whose checkpoint loses to a kill kills the children it created.

Limits: a child's grant is the intersection of its parent's and the one asked for, and it may
spawn children of its own only when asked for, fewer than its parent (:func:`narrow_grant`);
its budget is its share of what the parent has left (:func:`narrow_budget`); its spend is
added to the parent's usage when it finishes. The ``Grant.max_children`` of the parent bounds
how many children it may spawn in all — for resolver tools too: a parent whose allowance is 0
gets an ``error`` on such a call and spawns nothing. The aggregated result is the call's
``result`` (``{"children": [{"run_id", "goal", "status", "result"?, "error"?}], "succeeded",
"failed"}``); ``call.untrusted`` is set when any child read untrusted text, and each
``Run.children`` entry (``ChildRef``) keeps the child's status, result, usage and cloud.
A child's message carries ``parent_id``; a child whose parent already finished is killed when
its message comes up (``parent_stopped``).

Example (delegation to a domain agent as a tool)::

    def ask_carriers(parent: Run, call: CallRecord) -> list[ChildSpec]:
        return [ChildSpec(goal=call.args["goal"], scenario="carriers", cloud="aws",
                          grant=Grant(tools=["track_shipment"]))]

    children = ChildRuns(store, queues.__getitem__, cloud="azure",
                         resolvers={"ask_carrier_relations": ask_carriers})
    orchestrator = Orchestrator(..., children=children)
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.domain import CallRecord, CallStatus, ChildRef, Run, RunStatus, Step, StepStatus, utcnow
from core.errors import ConflictError, NotFoundError
from core.orchestrator._child_specs import (
    SPAWN_TOOL,
    ChildSpec,
    ChildSpecError,
    Resolver,
    subtask_tool,
    subtasks_from_args,
    with_subtask_tool,
)
from core.orchestrator._fanout import FANOUT_TOOL, fanin_result, fanout_from_data
from core.orchestrator._ledger import (
    MAX_PER_STEP,
    Ledger,
    Tally,
    child_id,
    child_key,
    fanin_progress,
)
from core.orchestrator._narrowing import narrow_budget, narrow_grant
from core.queue.base import Envelope, EnvelopeKind, TaskQueue
from core.ratelimit.bucket import RateLimitContention
from core.state.base import RunStore

__all__ = [
    "SPAWN_TOOL",
    "ChildRuns",
    "ChildSpec",
    "ChildSpecError",
    "Collected",
    "Resolver",
    "fanin_progress",
    "narrow_budget",
    "narrow_grant",
    "subtask_tool",
    "subtasks_from_args",
    "with_subtask_tool",
]

log = logging.getLogger("paddock.children")
MAX_RESULT_CHARS = 4000
"""A child's result is kept on the parent's head up to this length."""
_CAS_ATTEMPTS = 20
SWEEP_WHEN = 5


QueueLookup = Callable[[str], TaskQueue]
Create = Callable[[Run], Run]


@dataclass(frozen=True)
class Collected:
    """What :meth:`ChildRuns.collect` did."""

    parent: Run | None
    """The parent as stored, when it was read (a ``child_done`` that only added to the
    fan-in ledger leaves it unread)."""
    woke: bool
    """This call set the parent running: its caller advances it."""
    left: int | None
    """Children of the step not finished yet, when known."""


class ChildRuns:
    """Spawns, launches, collects and stops child runs; shared by the orchestrator and the
    queue worker of one process.

    Args:
        store: the run store (parents and children live in the same one).
        queues: the work queue of a cloud by name (``Deps.queue_for``).
        cloud: this process's cloud, where children go unless their spec says otherwise.
        resolvers: tool name -> resolver; ``spawn_subtasks`` is always included.
    """

    def __init__(
        self,
        store: RunStore,
        queues: QueueLookup | Mapping[str, TaskQueue],
        *,
        cloud: str = "local",
        resolvers: Mapping[str, Resolver] | None = None,
    ) -> None:
        self.store = store
        self._queues: QueueLookup = queues.__getitem__ if isinstance(queues, Mapping) else queues
        self.cloud = cloud
        self._ledger = Ledger(store)
        self.resolvers: dict[str, Resolver] = {
            SPAWN_TOOL: subtasks_from_args,
            FANOUT_TOOL: fanout_from_data,
            **(resolvers or {}),
        }

    # -- called by the orchestrator ------------------------------------------------------

    def handles(self, call: CallRecord) -> bool:
        """Whether ``call`` spawns children instead of going to the executor."""
        return call.tool in self.resolvers

    def spawn(
        self, run: Run, step: Step, calls: Sequence[CallRecord], *, create: Create, now: datetime
    ) -> None:
        """Create and launch the children of ``calls`` (allowed calls of ``step``) and mark
        ``run`` waiting. Mutates ``run`` and ``step``; the caller checkpoints them.

        A call whose resolver fails, or that would exceed ``Grant.max_children`` (or
        ``MAX_PER_STEP`` children in the step), ends in ``error`` with the reason and spawns
        nothing. Children are created (``create``,
        idempotent by id) and sent before the caller's checkpoint: if that checkpoint loses
        a race, the winner spawned the very same children and the extra messages are dropped
        as duplicates.
        """
        plans: list[tuple[CallRecord, list[ChildSpec]]] = []
        total = len(run.children)
        for call in calls:
            try:
                specs = self.resolvers[call.tool](run, call)
            except ChildSpecError as exc:
                _fail_call(call, exc.message, now)
                continue
            if total - len(run.children) + len(specs) > MAX_PER_STEP:  # this step's children
                _fail_call(call, f"more than {MAX_PER_STEP} child runs in one step", now)
                continue
            if total + len(specs) > run.grant.max_children:
                _fail_call(
                    call,
                    f"{len(specs)} more child runs would exceed this run's "
                    f"allowance of {run.grant.max_children}",
                    now,
                )
                continue
            total += len(specs)
            plans.append((call, specs))
        share = sum(len(specs) for _, specs in plans)
        for call, specs in plans:
            index = step.calls.index(call)
            for n, spec in enumerate(specs):
                child = self._child_run(
                    run, spec, child_id(run.id, step.index, index, n), share=share, now=now
                )
                self._create(child, create)
                run.children.append(
                    ChildRef(
                        id=child.id,
                        step_index=step.index,
                        call_id=call.call_id,
                        goal=child.goal,
                        cloud=spec.cloud or self.cloud,
                    )
                )
            call.status = CallStatus.EXECUTING
            call.worker = self.cloud
            call.started_at = call.started_at or now
            call.claimed_at = now
        if plans:
            run.status = RunStatus.WAITING
            run.reason = f"waiting for {share} child run(s)"
            launch = self._launchable(run)
            mine = [c for c in run.children if c.step_index == step.index]
            self._ledger.open(
                run.id,
                step.index,
                total=len(mine),
                unlaunched=sum(1 for c in mine if not c.launched),
            )
            for ref in launch:
                self._send(ref, parent=run)

    def collect(self, parent_id: str, *, child_id: str | None = None) -> Collected:
        """Record finished children of a waiting parent, launch the next ones and, when every
        child of the step has finished, complete its calls and set the parent running.

        With ``child_id`` (a ``child_done`` message) the child is added to the step's fan-in
        ledger: one small record, so a fan-out of N children never reads or rewrites the
        parent N times. The parent is read only to launch more children under its cap, to
        gather the step once the ledger is complete, or for a message already recorded (to
        spot a stalled wake). Without ``child_id`` (the spawner, a sweep) the parent's
        unfinished children are read and recorded.

        ``Collected.woke`` says whether *this* call set the parent running: only that caller
        should advance it, so two messages never advance one parent twice. Idempotent.
        """
        if child_id is not None:
            found = child_key(parent_id, child_id)
            if found is not None:
                return self._child_done(parent_id, child_id, *found)
        return self._sweep(parent_id)

    def _child_done(self, parent_id: str, child_id: str, step_index: int, key: str) -> Collected:
        if not self._finished(child_id, missing=False):  # unknown ids are never counted
            return Collected(None, False, None)
        tally = self._ledger.finish(parent_id, step_index, [key])
        if tally.total == 0:  # no ledger (spawned before it existed): read the parent
            return self._sweep(parent_id)
        if tally.left == 0:  # also for a duplicate: the worker that recorded it may have died
            return self._gather(parent_id, step_index)
        if tally.unlaunched > 0:
            return self._launch_more(parent_id, step_index, tally)
        if not tally.added:  # already recorded: the caller checks the parent for a stalled wake
            return Collected(self.store.get_run(parent_id, with_steps=False), False, tally.left)
        return Collected(None, False, tally.left)

    def _sweep(self, parent_id: str) -> Collected:
        """Read the parent and its unfinished children; record, launch and gather."""
        parent = self.store.get_run(parent_id, with_steps=False)
        if parent.status is not RunStatus.WAITING or not parent.children:
            return Collected(parent, False, None)
        step_index = parent.children[-1].step_index
        tally = self._ledger.read(parent_id, step_index)
        refs = [c for c in parent.children if c.step_index == step_index]
        keys = [
            _key(parent_id, r)
            for r in refs
            if r.launched and _key(parent_id, r) not in tally.done and self._finished(r.id)
        ]
        if keys:
            tally = self._ledger.finish(parent_id, step_index, keys)
        if all(_key(parent_id, r) in tally.done for r in refs):
            return self._gather(parent_id, step_index)
        if any(not r.launched for r in refs):
            return self._launch_more(parent_id, step_index, tally)
        left = sum(1 for r in refs if _key(parent_id, r) not in tally.done)
        return Collected(parent, False, left)

    def _launch_more(self, parent_id: str, step_index: int, tally: Tally) -> Collected:
        """Send the next children that fit under the parent's cap (the ledger's view of which
        have finished may be behind: that only launches fewer, and a later finish launches
        the rest)."""
        for _ in range(_CAS_ATTEMPTS):
            parent = self.store.get_run(parent_id, with_steps=False)
            if parent.status is not RunStatus.WAITING:
                return Collected(parent, False, tally.left)
            running = sum(
                1
                for c in parent.children
                if c.launched and not c.status.finished and _key(parent_id, c) not in tally.done
            )
            launch = self._launchable(parent, running=running)
            if not launch:
                return Collected(parent, False, tally.left)
            parent.updated_at = utcnow()
            try:
                stored = self.store.checkpoint(parent, expected_version=parent.version)
            except ConflictError:
                tally = self._ledger.read(parent_id, step_index)
                continue
            for ref in launch:
                self._send(ref, parent=stored)
            left = sum(1 for c in stored.children if c.step_index == step_index and not c.launched)
            self._ledger.hint(parent_id, step_index, unlaunched=left)
            return Collected(stored, False, tally.left)
        raise RateLimitContention(
            f"parent {parent_id}: too many concurrent updates; the "
            "child_done message will be delivered again"
        )

    def _gather(self, parent_id: str, step_index: int) -> Collected:
        """Every child of the step finished: copy their outcomes into the parent's refs (one
        read each, once), complete the calls and set the parent running."""
        read: dict[str, Run | None] = {}
        for _ in range(_CAS_ATTEMPTS):
            parent = self.store.get_run(parent_id)
            if parent.status is not RunStatus.WAITING or not parent.steps:
                return Collected(parent, False, 0)
            step = parent.steps[-1]
            for ref in parent.children:
                if ref.step_index != step.index or ref.status.finished:
                    continue
                if ref.id not in read:
                    read[ref.id] = self._outcome(ref.id)
                child = read[ref.id]
                if child is None:
                    ref.status, ref.error = RunStatus.FAILED, "child run is missing from the store"
                elif not child.status.finished:  # the ledger was ahead of the store: not yet
                    del read[ref.id]
                    return Collected(parent, False, None)
                else:
                    _record_outcome(ref, child)
                parent.usage = parent.usage.add(ref.usage)
                parent.tool_calls += ref.tool_calls
            _complete_calls(parent, step, utcnow())
            parent.updated_at = utcnow()
            try:
                stored = self.store.checkpoint(
                    parent, expected_version=parent.version, steps=[step]
                )
            except ConflictError:
                continue
            return Collected(stored, stored.status is not RunStatus.WAITING, 0)
        raise RateLimitContention(
            f"parent {parent_id}: too many concurrent updates; the "
            "child_done message will be delivered again"
        )

    def _finished(self, child_id: str, *, missing: bool = True) -> bool:
        """Whether the child finished; a child missing from the store counts as ``missing``
        (the sweep, which reads the parent's own references, gathers it as failed)."""
        try:
            return self.store.get_run(child_id, with_steps=False).status.finished
        except NotFoundError:
            return missing

    def _outcome(self, child_id: str) -> Run | None:
        try:
            return self.store.get_run(child_id)
        except NotFoundError:
            return None

    def needs_sweep(self, collected: Collected, *, few: int = SWEEP_WHEN) -> bool:
        """Whether so few children are left unfinished that all of them should be re-read
        once more (a ``child_done`` without a child id) in case a notification was lost: a
        handful of extra reads, never a stuck parent."""
        return collected.left is not None and 0 < collected.left <= few

    def stalled_wake(
        self, parent: Run, *, now: datetime, after: timedelta = timedelta(minutes=1)
    ) -> bool:
        """Whether ``parent`` was woken but nobody advanced it for ``after`` (the worker that
        woke it died): a redelivered ``child_done`` may then advance it."""
        if parent.status is not RunStatus.RUNNING or not parent.steps:
            return False
        step = parent.steps[-1]
        if step.status is StepStatus.DONE or not any(
            c.step_index == step.index for c in parent.children
        ):
            return False
        busy = any(c.status in (CallStatus.APPROVED, CallStatus.EXECUTING) for c in step.calls)
        return not busy and now - parent.updated_at > after

    # -- called by the worker ------------------------------------------------------------

    def child_finished(self, child: Run) -> None:
        """Tell the parent of a finished child (``child_done`` to the parent's queue).
        Safe to call more than once; a run without a parent is ignored."""
        if child.parent_id is None or not child.status.finished:
            return
        try:
            parent = self.store.get_run(child.parent_id, with_steps=False)
        except NotFoundError:
            return
        if parent.status.finished:
            return
        target = parent.owner if parent.owner in ("aws", "azure", "local") else self.cloud
        self._queues(target).send(
            Envelope.model_validate(
                {
                    "run_id": parent.id,
                    "expected_version": 0,
                    "target": target,
                    "kind": EnvelopeKind.CHILD_DONE,
                    "child_id": child.id,
                    "sender": self.cloud,
                    "traceparent": parent.traceparent,
                }
            )
        )

    def parent_stopped(self, child: Run) -> str | None:
        """Why ``child`` must stop because its parent already finished (a kill that raced
        the spawn), or ``None``. One read of the parent's head."""
        if child.parent_id is None:
            return None
        try:
            parent = self.store.get_run(child.parent_id, with_steps=False)
        except NotFoundError:
            return f"parent {child.parent_id} no longer exists"
        if parent.status.finished:
            return f"parent {parent.id} is {parent.status.value}"
        return None

    # -- internals -----------------------------------------------------------------------

    def _child_run(
        self, parent: Run, spec: ChildSpec, child_id: str, *, share: int, now: datetime
    ) -> Run:
        return Run(
            id=child_id,
            goal=spec.goal,
            tenant=parent.tenant,
            requested_by=parent.requested_by,
            catalog=list(spec.catalog if spec.catalog is not None else parent.catalog),
            base_urls=dict(spec.base_urls if spec.base_urls is not None else parent.base_urls),
            scenario=spec.scenario if spec.scenario is not None else parent.scenario,
            agent=spec.agent,
            inputs=dict(spec.inputs),
            planner=spec.planner or parent.planner,
            grant=narrow_grant(parent.grant, spec.grant),
            budget=narrow_budget(parent, spec.budget, share=share, now=now),
            parent_id=parent.id,
            traceparent=parent.traceparent,
        )

    def _create(self, child: Run, create: Create) -> None:
        # A retried spawn: the child exists already, with this very content.
        with contextlib.suppress(ConflictError):
            create(child)

    def _launchable(self, parent: Run, *, running: int | None = None) -> list[ChildRef]:
        """Unlaunched children that fit under the parent's concurrency cap; marked launched."""
        if running is None:
            running = sum(1 for c in parent.children if c.launched and not c.status.finished)
        room = max(0, parent.budget.max_running_children - running)
        picked = [c for c in parent.children if not c.launched][:room]
        for ref in picked:
            ref.launched = True
        return picked

    def _send(self, ref: ChildRef, *, parent: Run) -> None:
        target = ref.cloud if ref.cloud in ("aws", "azure", "local") else self.cloud
        self._queues(target).send(
            Envelope.model_validate(
                {
                    "run_id": ref.id,
                    "expected_version": 1,
                    "target": target,
                    "parent_id": parent.id,
                    "sender": self.cloud,
                    "traceparent": parent.traceparent,
                }
            )
        )


def _key(parent_id: str, ref: ChildRef) -> str:
    found = child_key(parent_id, ref.id)
    return found[1] if found is not None else ref.id


def _record_outcome(ref: ChildRef, child: Run) -> None:
    ref.status = child.status
    ref.result = None if child.result is None else child.result[:MAX_RESULT_CHARS]
    ref.error = child.error or (child.reason if child.status is not RunStatus.SUCCEEDED else None)
    ref.usage = child.usage
    ref.tool_calls = child.tool_calls
    ref.untrusted = any(c.untrusted and c.executed for s in child.steps for c in s.calls)


def _complete_calls(parent: Run, step: Step, now: datetime) -> None:
    """Finish each spawning call whose children have all finished; wake the parent when no
    call of the step waits on children any more."""
    waiting = False
    for call in step.calls:
        refs = [
            c for c in parent.children if c.step_index == step.index and c.call_id == call.call_id
        ]
        if not refs or call.status is not CallStatus.EXECUTING:
            continue
        if not all(r.status.finished for r in refs):
            waiting = True
            continue
        failed = [r for r in refs if r.status is not RunStatus.SUCCEEDED]
        call.result = fanin_result(refs, call.call_id)
        call.executed = True
        call.status_code = 200
        call.untrusted = any(r.untrusted for r in refs)
        call.status = CallStatus.ERROR if len(failed) == len(refs) else CallStatus.DONE
        call.error = f"{len(failed)} of {len(refs)} child runs did not succeed" if failed else None
        call.ended_at = now
    if not waiting:
        parent.status = RunStatus.RUNNING
        parent.reason = None


def _fail_call(call: CallRecord, message: str, now: datetime) -> None:
    call.status = CallStatus.ERROR
    call.error = message
    call.ended_at = now
    log.info("call %s spawns no children: %s", call.call_id, message)
