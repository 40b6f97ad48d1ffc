"""Think and guard: turn the planner's move into a recorded step with a decision per call."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol

from core.domain import (
    Approval,
    CallRecord,
    CallStatus,
    Decision,
    Plan,
    ProposedCall,
    Run,
    SideEffect,
    Step,
    StepStatus,
    Tool,
    Trust,
    Verdict,
    idempotency_key,
)
from core.guardrails.approvals import new_approval
from core.guardrails.base import Guard, new_decision_id
from core.guardrails.budget import loop_violation
from core.orchestrator._fanout import RESULTS_TOOL, answer_results
from core.orchestrator.tool_search import SEARCH_TOOL, ToolSearch, default_tool_search
from core.planner.base import PlanContext, Planner
from core.telemetry.tracing import RunTracer

HELP_TOOL = "request_human_help"


class _Tools(Protocol):
    @property
    def tools(self) -> list[Tool]: ...

    def find(self, name: str) -> Tool | None: ...


def plan_step(
    run: Run,
    catalog: _Tools,
    planner: Planner,
    guard: Guard,
    *,
    now: datetime,
    approval_ttl: timedelta,
    tracing: RunTracer | None = None,
    tool_search: ToolSearch | None = None,
) -> tuple[Step, list[Approval]]:
    """Ask the planner for the next move and decide on each proposed call.

    Large catalogs are narrowed by ``tool_search`` (see ``core.orchestrator.tool_search``).
    Raises ``PlannerError`` when the planner cannot answer.
    """
    allowed = _allowed_view(run, catalog.tools)
    search = tool_search or default_tool_search()
    tools = search.view(run, allowed)
    ctx = PlanContext(
        run_id=run.id,
        goal=run.goal,
        tools=tools,
        steps=list(run.steps),
        inputs=dict(run.inputs),
        scenario=run.scenario,
        tenant=run.tenant,
    )
    tracing = tracing or RunTracer()
    with tracing.plan(run, planner.label) as span:
        plan = planner.plan(ctx)
        tracing.planned(span, plan)
    step = Step(
        index=len(run.steps),
        reasoning=plan.reasoning,
        confidence=plan.confidence,
        planner=planner.label,
        model=plan.model,
        usage=plan.usage,
        started_at=now,
    )
    approvals: list[Approval] = []
    if plan.help_request is not None:
        call = CallRecord(
            call_id=f"help-{step.index}",
            tool=HELP_TOOL,
            args={"question": plan.help_request},
            status=CallStatus.AWAITING_APPROVAL,
            decision=Decision(
                id=new_decision_id(),
                verdict=Verdict.REQUIRE_APPROVAL,
                reasons=["the agent asked for human help"],
                rule_ids=["help_request"],
            ),
        )
        step.calls.append(call)
    elif any(c.tool == RESULTS_TOOL for c in plan.calls) and run.grant.max_children > 0:
        # Paging a fan-out's children reads the run's own records: the engine answers.
        pages = [c for c in plan.calls if c.tool == RESULTS_TOOL]
        step.calls.extend(
            answer_results(
                run,
                CallRecord(call_id=c.id or f"results-{step.index}-{i}", tool=c.tool, args=c.args),
                now=now,
            )
            for i, c in enumerate(pages)
        )
        rest = plan.model_copy(update={"calls": [c for c in plan.calls if c.tool != RESULTS_TOOL]})
        step.calls.extend(_decide_calls(run, step, rest, catalog, guard, tracing))
    elif search.active(allowed) and any(c.tool == SEARCH_TOOL for c in plan.calls):
        searches = [c for c in plan.calls if c.tool == SEARCH_TOOL]
        step.calls.extend(
            search.answer(c, allowed, call_id=c.id or f"search-{step.index}-{i}", now=now)
            for i, c in enumerate(searches)
        )
        rest = plan.model_copy(update={"calls": [c for c in plan.calls if c.tool != SEARCH_TOOL]})
        step.calls.extend(_decide_calls(run, step, rest, catalog, guard, tracing))
    else:
        step.calls.extend(_decide_calls(run, step, plan, catalog, guard, tracing))
    for call in step.calls:
        if call.status is CallStatus.AWAITING_APPROVAL and call.decision is not None:
            approval = new_approval(
                run,
                step.index,
                call,
                call.decision,
                reasoning=plan.reasoning,
                confidence=plan.confidence,
                ttl=approval_ttl,
            )
            call.approval_id = approval.id
            approvals.append(approval)
    if plan.final_answer is not None and not step.calls:
        step.final_answer = plan.final_answer
    elif not step.calls:
        step.error = "the planner proposed nothing"
    if not any(c.status in (CallStatus.APPROVED, CallStatus.AWAITING_APPROVAL) for c in step.calls):
        step.status = StepStatus.DONE
        step.ended_at = now
    elif approvals and not any(c.status is CallStatus.APPROVED for c in step.calls):
        step.status = StepStatus.AWAITING_APPROVAL
    return step, approvals


def _allowed_view(run: Run, tools: Sequence[Tool]) -> list[Tool]:
    """The tools the planner is shown: only those the run's grant could ever allow."""
    grant = run.grant
    return [
        t
        for t in tools
        if (grant.tools is None or t.name in grant.tools)
        and t.side_effect.value in grant.side_effects
    ]


def _decide_calls(
    run: Run, step: Step, plan: Plan, catalog: _Tools, guard: Guard, tracing: RunTracer
) -> list[CallRecord]:
    records: list[CallRecord] = []
    probe = run.model_copy(update={"steps": [*run.steps, step]})
    for index, proposed in enumerate(plan.calls):
        tool = catalog.find(proposed.tool)
        with tracing.guard(proposed.tool) as span:
            decision = guard.check(run, tool, proposed, confidence=plan.confidence)
            record = _record(run, step, index, proposed, tool, decision)
            probe.steps[-1] = step.model_copy(update={"calls": [*records, record]})
            loop = loop_violation(probe)
            if loop is not None and decision.verdict is not Verdict.DENY:
                record.decision = Decision(
                    id=decision.id,
                    verdict=Verdict.DENY,
                    reasons=[*decision.reasons, loop],
                    rule_ids=[*decision.rule_ids, "loop_detected"],
                )
                record.status = CallStatus.DENIED
            if record.decision is not None:
                tracing.decided(span, record.decision)
        records.append(record)
    return records


def _record(
    run: Run, step: Step, index: int, proposed: ProposedCall, tool: Tool | None, decision: Decision
) -> CallRecord:
    status = {
        Verdict.ALLOW: CallStatus.APPROVED,
        Verdict.DENY: CallStatus.DENIED,
        Verdict.REQUIRE_APPROVAL: CallStatus.AWAITING_APPROVAL,
    }[decision.verdict]
    record = CallRecord(
        call_id=proposed.id or f"call-{step.index}-{index}",
        tool=proposed.tool,
        args=dict(proposed.args),
        decision=decision,
        status=status,
    )
    if tool is not None:
        record.cloud = tool.location.value
        record.side_effect = tool.side_effect.value
        record.untrusted = tool.trust is Trust.UNTRUSTED
        if tool.spec is not None:  # the version and content the call was planned against
            record.spec_version = f"{tool.spec.version} sha256:{tool.spec.sha256[:12]}"
        if tool.side_effect is not SideEffect.READ:
            record.idempotency_key = idempotency_key(run.id, step.index, index)
    return record
