"""Paddock's fences around tool calls that another agent framework runs.

A :class:`Fence` keeps one Paddock run for one agent session (in any ``RunStore``: memory,
SQLite, DynamoDB...) and puts every tool call the framework is about to make through the same
guard as Paddock's own orchestrator: the grant, the workflow's Cedar rules, the argument
schema, and provenance (an argument copied from an untrusted tool result cannot steer a write
or a destructive call). Each call is recorded as a step of the run, with its decision, its
approval and its result: the audit trail ``paddock runs show`` and the console read.

The framework adapters (``paddock.integrations.langgraph``, ``paddock.integrations.agents``)
turn the fence's verdicts into the framework's own control flow; this module knows neither.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.domain import (
    CallRecord,
    CallStatus,
    Decision,
    Grant,
    HostedBinding,
    Location,
    ProposedCall,
    Run,
    RunStatus,
    SideEffect,
    Step,
    StepStatus,
    Tool,
    Trust,
    Verdict,
    canonical_args_hash,
    idempotency_key,
    utcnow,
)
from core.domain.pytool import PythonTool, marked
from core.guardrails.approvals import decide_approval, new_approval
from core.guardrails.base import Guard, new_decision_id
from core.guardrails.separation import RunFourEyes
from core.state.base import RunStore


@dataclass(frozen=True)
class Labels:
    """What the author of a framework tool declares about it (as ``@paddock.tool`` does)."""

    side_effect: SideEffect | str = SideEffect.DESTRUCTIVE
    trust: Trust | str = Trust.UNTRUSTED
    location: Location | str = Location.EXTERNAL


UNLABELLED = Labels()
"""A tool nobody labelled is assumed to be destructive and to return untrusted text: the
fence never guesses in the permissive direction."""


@dataclass(frozen=True)
class Check:
    """The fence's verdict on one call, as data.

    ``allowed``: run it now. ``denied``: do not run it; ``message`` is what the model should
    be told. ``pending``: it waits for a human (``approval_id``); decide it with
    :meth:`Fence.decide` and ask again.
    """

    call_id: str
    tool: str
    status: CallStatus
    reasons: tuple[str, ...] = ()
    rule_ids: tuple[str, ...] = ()
    approval_id: str | None = None
    idempotency_key: str | None = None
    result: Any = None
    """What the call returned, once it ran (see :attr:`executed`)."""

    @property
    def allowed(self) -> bool:
        """Run it now."""
        return self.status is CallStatus.APPROVED

    @property
    def executed(self) -> bool:
        """It already ran (a node replayed after a resume): use :attr:`result`, never rerun."""
        return self.status in (CallStatus.DONE, CallStatus.ERROR)

    @property
    def pending(self) -> bool:
        return self.status is CallStatus.AWAITING_APPROVAL

    @property
    def denied(self) -> bool:
        return not (self.allowed or self.pending or self.executed)

    @property
    def message(self) -> str:
        """The refusal the model is shown (it can then try something else)."""
        why = "; ".join(self.reasons) or "no reason given"
        if self.status is CallStatus.REJECTED:
            return f"Paddock: a human rejected this call of {self.tool}: {why}"
        if self.status is CallStatus.AWAITING_APPROVAL:
            return f"Paddock: this call of {self.tool} waits for approval: {why}"
        return f"Paddock refused this call of {self.tool}: {why}"


def hosted_tool(
    name: str,
    description: str,
    args_schema: Mapping[str, Any],
    *,
    host: str,
    labels: Labels = UNLABELLED,
) -> Tool:
    """A framework's tool as the guard sees it (a :class:`HostedBinding`: never executed by
    Paddock)."""
    return Tool(
        name=name,
        description=description,
        args_schema=dict(args_schema),
        binding=HostedBinding(host=host, name=name),
        side_effect=SideEffect(labels.side_effect),
        trust=Trust(labels.trust),
        location=Location(labels.location),
    )


def labels_of(function: object, given: Labels | None) -> Labels:
    """The labels given, else those of an ``@paddock.tool`` function, else :data:`UNLABELLED`."""
    if given is not None:
        return given
    found: PythonTool | None = marked(function)
    if found is None:
        return UNLABELLED
    return Labels(found.side_effect, found.trust, found.location)


def labels_for(*functions: object) -> dict[str, Labels]:
    """Labels by tool name, read from ``@paddock.tool`` functions (for frameworks whose tool
    objects do not keep the function they wrap)."""
    found = [t for f in functions if (t := marked(f)) is not None]
    return {t.name: Labels(t.side_effect, t.trust, t.location) for t in found}


class Fence:
    """One guarded agent session: a Paddock run whose steps are the framework's tool calls.

    Args:
        tools: the tools the agent may call, as the guard sees them (:func:`hosted_tool`).
        store: where the run is recorded (default: in memory).
        guard: the guard (default: :meth:`for_policy` builds Paddock's policy guard).
        goal: what the session is for (shown in the audit, matched by provenance as the
            operator's own words).
        grant: which tools and side effects the session may use.
        inputs: trusted operator inputs (provenance counts them as the operator's).
        requested_by: who started the session (may not approve its own calls).
        run_id: the session's run. A run the store already holds is picked up as it is (a
            graph resumed in another process, after an approval, keeps one audit trail); the
            other arguments then describe nothing new. Default: a new run.
    """

    def __init__(
        self,
        tools: Sequence[Tool],
        *,
        guard: Guard,
        store: RunStore | None = None,
        goal: str = "",
        grant: Grant | None = None,
        inputs: Mapping[str, Any] | None = None,
        tenant: str = "default",
        requested_by: str | None = None,
        host: str = "python",
        run_id: str | None = None,
        four_eyes: RunFourEyes | None = None,
    ) -> None:
        from core.state.memory import MemoryStore

        self.tools = {t.name: t for t in tools}
        self.guard = guard
        self.four_eyes = four_eyes or RunFourEyes()
        self.store: RunStore = store if store is not None else MemoryStore()
        self._lock = threading.Lock()
        if run_id is not None and _exists(self.store, run_id):
            self.run_id = run_id  # a session resumed by another process: same run, same audit
            return
        run = Run(
            id=run_id or "run_" + uuid.uuid4().hex[:12],
            goal=goal,
            tenant=tenant,
            requested_by=requested_by,
            status=RunStatus.RUNNING,
            planner=host,
            inputs=dict(inputs or {}),
            grant=grant or Grant(),
        )
        self.run_id = self.store.create_run(run).id

    @classmethod
    def for_policy(
        cls,
        tools: Sequence[Tool],
        *,
        policy_dir: str | Path | None = None,
        **options: Any,
    ) -> Fence:
        """A fence with Paddock's policy guard: the Cedar rules in ``policy_dir`` (the format
        of docs/guardrails.md, type-checked against ``tools``), or the default policy."""
        from core.guardrails import PolicyGuard, load_policy_set
        from core.guardrails.separation import annotated_rules

        policies = load_policy_set(Path(policy_dir), list(tools)) if policy_dir else None
        guard = PolicyGuard(policies=policies) if policies is not None else PolicyGuard()
        # Separation of duties as in a workflow: destructive calls, provenance holds and the
        # rules annotated @four_eyes("required") need someone other than the requester.
        annotated = annotated_rules(Path(policy_dir)) if policy_dir else frozenset()
        options.setdefault("four_eyes", RunFourEyes(annotated=annotated))
        return cls(tools, guard=guard, **options)

    @property
    def run(self) -> Run:
        """The session's run as recorded: every call, decision, approval and result."""
        return self.store.get_run(self.run_id)

    def check(self, tool: str, args: Mapping[str, Any], *, call_id: str) -> Check:
        """Paddock's decision on a call, recorded before anything runs.

        Asking again about the same ``call_id`` and arguments (a framework re-running a node
        on resume) returns the recorded state instead of deciding twice; the same id with other
        arguments is refused (``call_id_reused``).
        """
        with self._lock:
            run = self.store.get_run(self.run_id)
            found = _find(run, call_id)
            if found is not None and _same_call(found[1], tool, args):
                return _as_check(run, found[1])
            definition = self.tools.get(tool)
            proposed = ProposedCall(id=call_id, tool=tool, args=dict(args))
            if found is not None:
                # A decision belongs to one exact call: an id reused for other arguments (a
                # confused or hostile model) gets none of it, and is recorded as refused.
                proposed.id = f"{call_id}~{len(run.steps)}"
                decision = Decision(
                    id=new_decision_id(),
                    verdict=Verdict.DENY,
                    reasons=[f"call id {call_id!r} was already used for another call"],
                    rule_ids=["call_id_reused"],
                )
            else:
                decision = self.guard.check(run, definition, proposed)
            step = Step(index=len(run.steps), status=StepStatus.EXECUTING, planner=run.planner)
            record = _record(run, step, proposed, definition, decision)
            step.calls.append(record)
            if record.status is CallStatus.AWAITING_APPROVAL:
                approval = new_approval(
                    run, step.index, record, decision, reasoning="", confidence=None
                )
                record.approval_id = approval.id
                run.approvals.append(approval)
            if record.status is CallStatus.DENIED:
                step.status, step.ended_at = StepStatus.DONE, utcnow()
            run.steps.append(step)
            run.step_count = len(run.steps)
            self._save(run, step)
            return _as_check(run, record)

    def decide(
        self, approval_id: str, *, approve: bool, approver: str, comment: str | None = None
    ) -> Check:
        """Record a human decision on a pending call; ``check`` then says ``allowed`` (or
        denied, rejected).

        Raises:
            ApprovalError: unknown, already decided, expired or self-approved.
        """
        with self._lock:
            run = self.store.get_run(self.run_id)
            pending = next((a for a in run.approvals if a.id == approval_id), None)
            second = None
            if pending is not None and approve:
                tool = self.tools.get(pending.tool)
                side_effect = tool.side_effect if tool is not None else None
                second = self.four_eyes.reason(pending, side_effect)
            decided = decide_approval(
                run,
                approval_id,
                approver=approver,
                approve=approve,
                comment=comment,
                second_person=second,
            )
            run.approvals = [decided if a.id == decided.id else a for a in run.approvals]
            step = run.steps[decided.step_index]
            record = next(c for c in step.calls if c.call_id == decided.call_id)
            record.status = CallStatus.APPROVED if approve else CallStatus.REJECTED
            if not approve:
                step.status, step.ended_at = StepStatus.DONE, utcnow()
            self._save(run, step)
            return _as_check(run, record)

    def record_result(self, call_id: str, result: Any, *, error: str | None = None) -> None:
        """Record what an allowed call returned: the audit and the provenance of what comes
        next (an untrusted tool's text is then held against later calls' arguments)."""
        with self._lock:
            run = self.store.get_run(self.run_id)
            found = _find(run, call_id)
            if found is None:
                raise KeyError(f"no call {call_id!r} in run {self.run_id}")
            step, record = found
            record.executed = True
            record.result = result
            record.status_code = 500 if error else 200
            record.status = CallStatus.ERROR if error else CallStatus.DONE
            record.error = error
            record.ended_at = step.ended_at = utcnow()
            step.status = StepStatus.DONE
            run.tool_calls += 1
            self._save(run, step)

    def finish(self, answer: str | None = None, *, status: RunStatus = RunStatus.SUCCEEDED) -> Run:
        """Close the session's run with the agent's answer."""
        with self._lock:
            run = self.store.get_run(self.run_id)
            run.status, run.result = status, answer
            return self._save(run, None)

    def _save(self, run: Run, step: Step | None) -> Run:
        # One writer per fence (the lock); a stale version means someone else wrote the run.
        run.updated_at = utcnow()
        stored = self.store.checkpoint(
            run, expected_version=run.version, steps=[step] if step is not None else []
        )
        run.version = stored.version
        return run


def _exists(store: RunStore, run_id: str) -> bool:
    from core.errors import NotFoundError

    try:
        store.get_run(run_id, with_steps=False)
    except NotFoundError:
        return False
    return True


def _same_call(record: CallRecord, tool: str, args: Mapping[str, Any]) -> bool:
    return canonical_args_hash(record.tool, record.args) == canonical_args_hash(tool, dict(args))


def _find(run: Run, call_id: str) -> tuple[Step, CallRecord] | None:
    for step in run.steps:
        for call in step.calls:
            if call.call_id == call_id:
                return step, call
    return None


def _record(
    run: Run, step: Step, proposed: ProposedCall, tool: Tool | None, decision: Decision
) -> CallRecord:
    status = {
        Verdict.ALLOW: CallStatus.APPROVED,
        Verdict.DENY: CallStatus.DENIED,
        Verdict.REQUIRE_APPROVAL: CallStatus.AWAITING_APPROVAL,
    }[decision.verdict]
    record = CallRecord(
        call_id=proposed.id, tool=proposed.tool, args=dict(proposed.args), decision=decision
    )
    record.status = status
    record.started_at = utcnow()
    if tool is not None:
        record.cloud = tool.location.value
        record.side_effect = tool.side_effect.value
        record.untrusted = tool.trust is Trust.UNTRUSTED
        if tool.side_effect is not SideEffect.READ:
            record.idempotency_key = idempotency_key(run.id, step.index, 0)
    return record


def _as_check(run: Run, record: CallRecord) -> Check:
    decision = record.decision
    reasons = tuple(decision.reasons) if decision else ()
    approval = next((a for a in run.approvals if a.id == record.approval_id), None)
    if approval is not None and approval.comment:
        reasons = (*reasons, f"comment: {approval.comment}")
    return Check(
        call_id=record.call_id,
        tool=record.tool,
        status=record.status,
        reasons=reasons,
        rule_ids=tuple(decision.rule_ids) if decision else (),
        approval_id=record.approval_id,
        idempotency_key=record.idempotency_key,
        result=record.result,
    )
