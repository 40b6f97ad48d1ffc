"""The durable step loop: think -> guard -> act -> checkpoint.

Each turn plans one step, records every call's decision in a checkpoint *before* anything
executes, claims the calls with a second checkpoint, executes them and checkpoints the
results. A crash anywhere leaves a state from which ``advance`` continues: claimed calls are
re-sent with the same idempotency key, so a service never sees a write twice.

``advance`` returns what happened (``core.orchestrator.outcome``): finished, paused, waiting
for children, handed off, lost a race, throttled, stale or yielded. A throttle is data, not an
exception: the caller decides how to wait.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol, TypeAlias

from core.domain import (
    Approval,
    ApprovalStatus,
    CallRecord,
    CallStatus,
    Run,
    RunStatus,
    Step,
    StepStatus,
    Tool,
    utcnow,
)
from core.domain.observer import NullObserver, RunObserver
from core.domain.review import final_status
from core.errors import BudgetSpent, ConflictError, NotFoundError, PaddockError, PlannerError
from core.execution.base import CallContext, ExecutionResult, Executor
from core.guardrails.answers import untrusted_in_answer
from core.guardrails.approvals import decide_approval
from core.guardrails.base import Guard
from core.guardrails.budget import budget_violation, loop_violation
from core.guardrails.separation import RunFourEyes
from core.orchestrator._lineage import Lineage, ancestor_killed, lineage
from core.orchestrator.acting import apply_result, failed_result, hold_drifted
from core.orchestrator.outcome import (
    AdvanceOutcome,
    Finished,
    HandedOff,
    LostRace,
    Paused,
    Stale,
    Throttled,
    Waiting,
    Yielded,
    resting,
)
from core.orchestrator.planning import HELP_TOOL, plan_step
from core.planner.base import Planner
from core.state.base import RunStore, kill_scope_run
from core.telemetry.tracing import RunTracer, current_traceparent

if TYPE_CHECKING:
    from core.identity.base import CapabilityIssuer
    from core.orchestrator.children import ChildRuns
    from core.orchestrator.takeover import TakeOver
    from core.orchestrator.tool_search import ToolSearch
    from core.ratelimit.admission import CallAdmission


class ToolSource(Protocol):
    """What the loop needs of a catalog."""

    @property
    def tools(self) -> list[Tool]: ...

    def find(self, name: str) -> Tool | None: ...


CatalogProvider = Callable[[Run], ToolSource]
FourEyesProvider = Callable[[Run], RunFourEyes]
"""A run's separation-of-duties setting (``core.guardrails.separation.WorkflowFourEyes``)."""
PlannerProvider = Callable[[Run], Planner]
Handoff = Callable[[Run, str], None]
"""Hands a run to another cloud's worker: ``(run, target_cloud)``; enqueues, nothing more.
``advance`` then returns ``HandedOff(run, target)``."""
Turn: TypeAlias = Run | AdvanceOutcome
"""What one think or act phase leaves: the run (it moved on; keep going) or why to stop."""


@dataclass
class Orchestrator:
    """Advances runs held in a ``RunStore``. One instance serves many runs."""

    store: RunStore
    catalogs: CatalogProvider
    planners: PlannerProvider
    guard: Guard
    executor: Executor
    cloud: str = "local"
    """``local`` runs every call; ``aws``/``azure`` hand other clouds' calls over."""
    handoff: Handoff | None = None
    observer: RunObserver = field(default_factory=NullObserver)
    clock: Callable[[], datetime] = utcnow
    approval_ttl: timedelta = timedelta(hours=24)
    claim_lease: timedelta = timedelta(minutes=2)
    """How long a worker's claim on executing calls holds before another worker may retake
    it. Longer than the slowest tool call (the executor's timeouts and retries)."""
    tracing: RunTracer = field(default_factory=RunTracer)
    children: ChildRuns | None = None
    """Spawns child runs for the calls it handles (``core.orchestrator.children``)."""
    admission: CallAdmission | None = None
    """Shared rate limits per tool or host, asked before calls are claimed; a refusal stops
    the advance with a ``Throttled`` outcome (the worker re-enqueues the run with a delay)."""
    max_deferrals: int = 20
    """How often a call, or the model in a row, answering 429/503 with Retry-After is put back
    on the queue before the call (or the run) fails."""
    capabilities: CapabilityIssuer | None = None
    """Mints the capability token each call carries to the executor (``core.identity``)."""
    tool_search: ToolSearch | None = None
    """Narrows large catalogs for the planner (default: the process-wide one with the default
    numbers, ``core.orchestrator.tool_search``)."""
    taking_over: TakeOver | None = None
    """Claims this process may re-send at once, whatever their lease: the stale ones it saw
    when it won a single-flight take-over (``core.orchestrator.takeover``)."""
    four_eyes: FourEyesProvider | None = None
    """Which held calls the run's requester may not approve (default: every destructive call
    and every call a rule that says so held; ``core.workflows.four_eyes``)."""

    # -- public API ---------------------------------------------------------------------

    def create(self, run: Run) -> Run:
        """Store a new run (status ``pending``) and return it at version 1."""
        if run.traceparent is None:
            run.traceparent = self.tracing.start_run(run)
        return self.store.create_run(run)

    def advance(
        self,
        run_id: str,
        *,
        expected_version: int | None = None,
        max_steps: int | None = None,
        deferred: tuple[int, str | None] = (0, None),
    ) -> AdvanceOutcome:
        """Advance a run until it finishes, pauses, is handed off, is throttled, or
        ``max_steps`` planned steps pass; returns why it stopped, with the run.

        ``deferred``: how many times (and why, last) the message was put back for lack of
        budget before this advance; recorded on the next step planned.

        With ``expected_version`` (from a queue message), a run that has moved on since the
        message was sent is returned untouched as ``Stale``: the message was a duplicate or
        old. Raises what the store, the executor's transport or the handoff hook raise.
        """
        run = self.store.get_run(run_id)
        if expected_version is not None and run.version != expected_version:
            return Stale(run, expected_version)
        with self.tracing.advance(run) as span:
            try:
                outcome = self._loop(run, max_steps, deferred)
            except ConflictError:
                # Another worker advanced this run since we read it; it owns the run now.
                outcome = LostRace(self.store.get_run(run_id))
            self.tracing.finished(span, outcome.run, outcome=outcome.kind.value)
        return outcome

    def _loop(
        self, run: Run, max_steps: int | None, deferred: tuple[int, str | None] = (0, None)
    ) -> AdvanceOutcome:
        planned = 0
        above = lineage(self.store, run)  # a child stops when a run above it was stopped
        while (rests := resting(run)) is None:
            stop = self._stop_reason(run, above)
            if stop is not None:
                return Finished(self._finish(run, stop[0], stop[1]))
            last = run.steps[-1] if run.steps else None
            turn: Turn
            if last is not None and last.status is not StepStatus.DONE:
                with self.tracing.step(run, last.index, resumed=True):
                    turn = self._act(run, last)
            elif max_steps is not None and planned >= max_steps:
                return Yielded(run)
            else:
                with self.tracing.step(run, len(run.steps)):
                    turn = self._think(run, deferred if planned == 0 else (0, None))
                    planned += 1
                    if isinstance(turn, Run) and self._acts_next(turn, above):
                        turn = self._act(turn, turn.steps[-1])
            if not isinstance(turn, Run):
                return turn
            run = turn
        return rests

    def _acts_next(self, run: Run, above: Lineage) -> bool:
        """Whether a freshly planned step has calls to run in the same step span."""
        last = run.steps[-1] if run.steps else None
        return (
            last is not None
            and last.status is not StepStatus.DONE
            and not run.status.finished
            and self._stop_reason(run, above) is None
        )

    def decide(
        self,
        run_id: str,
        approval_id: str,
        *,
        approver: str,
        approve: bool,
        comment: str | None = None,
        roles: tuple[str, ...] = (),
    ) -> Run:
        """Record a human decision on a pending approval; the run is then ready to advance.

        Raises ``ApprovalError`` for unknown, replayed, expired or mismatched approvals.
        """
        run = self.store.get_run(run_id)
        pending = next((a for a in run.approvals if a.id == approval_id), None)
        decided = decide_approval(
            run,
            approval_id,
            approver=approver,
            approve=approve,
            comment=comment,
            now=self.clock(),
            roles=roles,
            second_person=self.second_person(run, pending) if pending and approve else None,
        )
        run.approvals = [decided if a.id == decided.id else a for a in run.approvals]
        step = run.steps[decided.step_index]
        call = next(c for c in step.calls if c.call_id == decided.call_id)
        _apply_decision(call, decided)
        if not _step_waiting(run, step):
            step.status = StepStatus.EXECUTING if _runnable(step) else StepStatus.DONE
            if step.status is StepStatus.DONE:
                step.ended_at = self.clock()
        if not run.pending_approvals and run.status is RunStatus.AWAITING_APPROVAL:
            run.status = RunStatus.RUNNING
            run.reason = None
        with self.tracing.approval(run, decided):
            return self._save(run, step)

    def second_person(self, run: Run, approval: Approval) -> str | None:
        """Why ``approval`` needs someone other than the run's requester to approve it
        (``None``: the requester may approve it). A tool the catalog no longer lists, or a
        catalog that does not load, counts as destructive."""
        setting = self.four_eyes(run) if self.four_eyes is not None else RunFourEyes()
        try:
            tool = self.catalogs(run).find(approval.tool)
        except (PaddockError, OSError, ValueError):
            tool = None
        return setting.reason(approval, tool.side_effect if tool is not None else None)

    def kill(self, run_id: str, *, reason: str) -> Run:
        """Raise the run's kill flag and mark it killed unless it already finished; then
        kill its unfinished child runs the same way."""
        self.store.set_kill(kill_scope_run(run_id), reason)
        run = self._kill_one(run_id, reason)
        for child in run.children:
            if not child.status.finished:
                self.kill(child.id, reason=f"parent {run_id} stopped: {reason}")
        if self.children is not None and run.status.finished:
            # A child killed while idle (awaiting approval, waiting) has no message in flight
            # to tell its waiting parent; without this the parent would wait for ever.
            self.children.child_finished(run)
        return run

    def _kill_one(self, run_id: str, reason: str) -> Run:
        for _ in range(5):
            run = self.store.get_run(run_id)
            if run.status.finished:
                return run
            try:
                return self._finish(run, RunStatus.KILLED, f"kill switch (run): {reason}")
            except ConflictError:
                continue
        return self.store.get_run(run_id)

    # -- think --------------------------------------------------------------------------

    def _think(self, run: Run, deferred: tuple[int, str | None] = (0, None)) -> Turn:
        catalog = self.catalogs(run)
        planner = self.planners(run)
        stored = (run.status, run.owner)
        if run.status is RunStatus.PENDING:
            run.status = RunStatus.RUNNING
            run.owner = self.cloud
        try:
            step, approvals = plan_step(
                run,
                catalog,
                planner,
                self.guard,
                now=self.clock(),
                approval_ttl=self.approval_ttl,
                tracing=self.tracing,
                tool_search=self.tool_search,
            )
        except BudgetSpent as exc:  # the shared model budget: no request went out
            run.status, run.owner = stored  # nothing was saved
            return Throttled(run, exc.wait, exc.message)
        except PlannerError as exc:
            return self._planner_failed(run, exc)
        step.deferrals, step.deferred_reason = deferred
        return self._record(run, step, approvals)

    def _record(self, run: Run, step: Step, approvals: list[Approval]) -> Run:
        """Checkpoint a planned step with its decisions (before any call runs)."""
        run.planner_deferrals = 0
        run.steps.append(step)
        run.step_count = len(run.steps)
        run.usage = run.usage.add(step.usage)
        run.approvals = _keep_recent(run.approvals) + approvals
        if step.final_answer is not None and not step.calls:
            run.result = step.final_answer
            run.result_untrusted = untrusted_in_answer(run, step.final_answer)
            run.status, run.reason = final_status(run)  # the answer is a claim: check the calls
        elif approvals and not _runnable(step):
            run.status = RunStatus.AWAITING_APPROVAL
        run = self._save(run, step)
        self.observer.step_planned(run, step)
        for call in step.calls:
            self.observer.call_decided(run, step, call)
        if run.status is RunStatus.AWAITING_APPROVAL:
            self.observer.run_paused(run)
        elif run.status.finished:
            self.observer.run_finished(run)
        return run

    def _planner_failed(self, run: Run, exc: PlannerError) -> Turn:
        """A model that answered 429/503 with Retry-After is asked again later (up to
        ``max_deferrals`` times in a row); any other planner error fails the run."""
        if not (exc.retryable and exc.retry_after is not None):
            return self._finish(run, RunStatus.FAILED, f"planner: {exc.message}", error=True)
        if run.planner_deferrals >= self.max_deferrals:
            return self._finish(
                run,
                RunStatus.FAILED,
                f"planner: {exc.message} (still refused after {run.planner_deferrals} deferrals)",
                error=True,
            )
        run.planner_deferrals += 1  # stored, so a model that never recovers ends
        run = self._save(run, None)
        return Throttled(run, max(0.0, exc.retry_after), f"planner: {exc.message}")

    # -- act ----------------------------------------------------------------------------

    def _act(self, run: Run, step: Step) -> Turn:
        """Run the step's allowed calls that belong here: claim them, execute them, settle
        the step. Hands the run over when the calls belong to another cloud."""
        pending = [c for c in step.calls if c.status in (CallStatus.APPROVED, CallStatus.EXECUTING)]
        if not pending:
            return self._close(run, step)
        mine = [c for c in pending if self._runs_here(c.cloud)]
        if not mine:
            return self._hand_off(run, pending[0].cloud)
        spawning = [c for c in mine if self.children is not None and self.children.handles(c)]
        if spawning and len(spawning) == len(mine):
            return self._spawn(run, step, spawning)
        mine = [c for c in mine if c not in spawning]  # spawned on the next pass
        claimed = self._claim(run, step, mine)
        if not isinstance(claimed, Run):
            return claimed
        catalog = self.catalogs(claimed)
        waits = [self._execute(claimed, step, call, catalog.find(call.tool)) for call in mine]
        return self._settle(claimed, step, mine, waits, catalog)

    def _close(self, run: Run, step: Step) -> Turn:
        """A step with nothing left to run: it waits for a human, or it is done."""
        if _step_waiting(run, step):
            already = run.status is RunStatus.AWAITING_APPROVAL
            step.status = StepStatus.AWAITING_APPROVAL
            run.status = RunStatus.AWAITING_APPROVAL
            run = self._save(run, step)
            if not already:  # the think phase announced the pause already
                self.observer.run_paused(run)
            return Paused(run)
        step.status = StepStatus.DONE
        step.ended_at = self.clock()
        return self._save(run, step)

    def _hand_off(self, run: Run, target: str) -> HandedOff:
        if self.handoff is None:
            raise NotFoundError(f"no handoff to reach the {target} worker")
        self.handoff(run, target)
        return HandedOff(run, target)

    def _claim(self, run: Run, step: Step, calls: list[CallRecord]) -> Run | LostRace | Throttled:
        """Mark ``calls`` executing by this worker in one checkpoint: exactly one worker gets
        past it. Nothing is claimed while another worker's lease holds or a shared rate
        limit is spent."""
        now = self.clock()
        taken = self.taking_over
        if any(
            c.status is CallStatus.EXECUTING
            and c.claimed_at is not None
            and now - c.claimed_at < self.claim_lease
            and not (taken is not None and taken.covers(c.call_id, c.claimed_at))
            for c in calls
        ):
            # Another worker claimed these calls and is still within its lease: its checkpoint
            # moves the run on. After the lease (a crashed worker), the next advance re-claims
            # and re-sends with the same idempotency key, so the service sees one effect.
            return LostRace(run)
        if self.admission is not None:
            found = self.catalogs(run)
            wait = self.admission.admit(run, [(c, found.find(c.tool)) for c in calls])
            if wait is not None:
                return Throttled(run, wait.seconds, wait.reason)
        for call in calls:
            call.status = CallStatus.EXECUTING
            call.worker = self.cloud
            call.started_at = call.started_at or now
            call.claimed_at = now
        step.status = StepStatus.EXECUTING
        run.owner = self.cloud
        return self._save(run, step)

    def _settle(
        self,
        run: Run,
        step: Step,
        calls: list[CallRecord],
        waits: list[float | None],
        catalog: ToolSource,
    ) -> Turn:
        """Checkpoint the executed calls' results (and the step's end, when nothing is left
        to run or to decide); then fail the run on schema drift in mode ``fail``, or stop
        throttled when a service asked to retry a call later."""
        failed = hold_drifted(
            run, step, [c for c in calls if c.drift], catalog.find, ttl=self.approval_ttl
        )
        if failed is None and not _runnable(step) and not _step_waiting(run, step):
            step.status = StepStatus.DONE  # one checkpoint records the results and the end
            step.ended_at = self.clock()
        run = self._save(run, step)
        if failed is not None:
            return Finished(self._finish(run, RunStatus.FAILED, failed))
        wait = max((w for w in waits if w is not None), default=None)
        if wait is not None:
            return Throttled(run, max(0.0, wait), f"run {run.id}: a service asked to retry later")
        return run

    def _spawn(self, run: Run, step: Step, calls: list[CallRecord]) -> Turn:
        """Start the children of ``calls``; the run waits for them without this worker."""
        assert self.children is not None
        known = len(run.children)
        self.children.spawn(run, step, calls, create=self.create, now=self.clock())
        run.owner = self.cloud
        try:
            run = self._save(run, step)
        except ConflictError:
            self._stop_unowned(run, [c.id for c in run.children[known:]])
            raise
        if run.status is not RunStatus.WAITING:
            return run
        # Children that finished before this save found the run not waiting yet: collect
        # them. Whoever wakes the run, this collect or a child_done worker, plans its next
        # step; the compare-and-swap in ``collect`` makes that exactly one of them.
        collected = self.children.collect(run.id)
        run = collected.parent or run
        if collected.woke:
            return run
        if run.status is RunStatus.WAITING:
            return Waiting(run)
        return LostRace(run)  # a child_done worker woke it and carries it on

    def _stop_unowned(self, run: Run, created: list[str]) -> None:
        """The spawn's checkpoint lost to another writer. If that was a kill, it could not
        see the children just created (some already sent): stop them, so none is left
        pending or running without a parent. If another worker spawned the same step, the
        children (same ids) are its own and are left alone."""
        stored = self.store.get_run(run.id, with_steps=False)
        if not created or not (
            stored.status.finished or self.store.kill_reason(tenant=stored.tenant, run_id=stored.id)
        ):
            return
        for child_id in created:
            self.kill(child_id, reason=f"parent {run.id} stopped while spawning it")

    def _execute(self, run: Run, step: Step, call: CallRecord, tool: Tool | None) -> float | None:
        """Run one call; returns the Retry-After when the call was put back for later."""
        index = step.calls.index(call)
        if tool is None:
            failed_result(call, f"tool {call.tool!r} is no longer in the catalog", self.clock())
        else:
            with self.tracing.tool(tool, call):
                token, refused, renew = None, None, None
                if (minter := self.capabilities) is not None:
                    issued = minter.issue(run, step.index, index, call, tool)
                    call.capability = issued.claims
                    token, refused = issued.token, issued.refused

                    def renew() -> str | None:  # a fresh token per retry sent to the service
                        return minter.issue(run, step.index, index, call, tool).token

                ctx = CallContext(
                    run_id=run.id,
                    step_index=step.index,
                    call_index=index,
                    tenant=run.tenant,
                    idempotency_key=call.idempotency_key,
                    capability_token=token,
                    renew_capability=renew,
                    traceparent=current_traceparent() or run.traceparent,
                )
                result = (
                    ExecutionResult(error=f"refused: {refused}", refused=refused, attempts=0)
                    if refused is not None
                    else self.executor.execute(tool, call.args, ctx)
                )
                if self._deferrable(call, result):
                    call.status, call.claimed_at = CallStatus.APPROVED, None
                    call.deferred += 1
                    return result.retry_after
                apply_result(call, tool, result, self.clock())
            run.tool_calls += 1
        self.observer.call_finished(run, step, call)
        return None

    def _deferrable(self, call: CallRecord, result: ExecutionResult) -> bool:
        """429/503 with a Retry-After too long to wait in-process, on a call safe to repeat:
        the run goes back on the queue with that delay (up to ``max_deferrals`` times)."""
        return (
            result.retry_after is not None
            and result.retryable
            and result.status_code in (429, 503)
            and call.deferred < self.max_deferrals
        )

    # -- helpers ------------------------------------------------------------------------

    def _runs_here(self, cloud: str) -> bool:
        return self.cloud == "local" or cloud in (self.cloud, "external")

    def _stop_reason(self, run: Run, above: Lineage) -> tuple[RunStatus, str] | None:
        killed = (
            self.store.kill_reason(tenant=run.tenant, run_id=run.id)
            or above.stopped
            or ancestor_killed(self.store, run, above)
        )
        if killed is not None:
            return RunStatus.KILLED, killed
        over = budget_violation(run, now=self.clock())
        if over is not None:
            return RunStatus.FAILED, over
        loop = loop_violation(run)
        if loop is not None:
            return RunStatus.FAILED, loop
        return None

    def _finish(self, run: Run, status: RunStatus, reason: str, *, error: bool = False) -> Run:
        run.status = status
        run.reason = reason
        if error or status is RunStatus.FAILED:
            run.error = reason
        for approval in run.approvals:
            if approval.status is ApprovalStatus.PENDING:
                approval.status = ApprovalStatus.EXPIRED
        run = self._save(run, None)
        self.observer.run_finished(run)
        return run

    def _save(self, run: Run, step: Step | None) -> Run:
        run.updated_at = self.clock()
        with self.tracing.checkpoint(run):
            stored = self.store.checkpoint(
                run, expected_version=run.version, steps=[step] if step is not None else []
            )
        run.version = stored.version
        return run


def _runnable(step: Step) -> bool:
    return any(c.status in (CallStatus.APPROVED, CallStatus.EXECUTING) for c in step.calls)


def _step_waiting(run: Run, step: Step) -> bool:
    return any(a.step_index == step.index for a in run.pending_approvals)


def _apply_decision(call: CallRecord, approval: Approval) -> None:
    approved = approval.status is ApprovalStatus.APPROVED
    if "schema_drift" in approval.rule_ids:
        call.quarantined = not approved
        if not approved:
            call.error = "response rejected by a human after schema drift" + (
                f": {approval.comment}" if approval.comment else ""
            )
        return
    if call.tool == HELP_TOOL:
        call.status = CallStatus.DONE if approved else CallStatus.REJECTED
        call.result = {"human_answer": approval.comment or ("approved" if approved else None)}
        call.error = None if approved else (approval.comment or "the human declined to help")
        return
    if approved:
        call.status = CallStatus.APPROVED
    else:
        call.status = CallStatus.REJECTED
        call.error = approval.comment or "rejected by approver"


def _keep_recent(approvals: list[Approval], limit: int = 20) -> list[Approval]:
    """Decided approvals are kept (bounded) so the head stays small."""
    pending = [a for a in approvals if a.status is ApprovalStatus.PENDING]
    decided = [a for a in approvals if a.status is not ApprovalStatus.PENDING]
    return decided[-limit:] + pending
