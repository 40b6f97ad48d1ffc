"""From stored records to the API's response bodies."""

from __future__ import annotations

from core.api.models import (
    ApprovalView,
    CallView,
    DecisionView,
    RunHead,
    RunView,
    StepView,
)
from core.domain import (
    Approval,
    CallRecord,
    Run,
    Step,
    count_calls,
    step_number,
    unresolved_failures,
)


def run_head(run: Run) -> RunHead:
    return RunHead(
        run_id=run.id,
        status=run.status,
        goal=run.goal,
        tenant=run.tenant,
        scenario=run.scenario,
        workflow=run.scenario,
        workflow_version=run.workflow_version,
        planner=run.planner,
        version=run.version,
        owner=run.owner,
        step_count=run.step_count,
        tool_calls=run.tool_calls,
        calls=count_calls(run) if run.steps or not run.step_count else None,
        usage=run.usage,
        requested_by=run.requested_by,
        result=run.result,
        result_untrusted=list(run.result_untrusted),
        reason=run.reason,
        error=run.error,
        created_at=run.created_at,
        updated_at=run.updated_at,
    )


def run_view(run: Run) -> RunView:
    approvals = [approval_view(run, a) for a in run.approvals]
    return RunView(
        **run_head(run).model_dump(),
        steps=[step_view(s) for s in run.steps],
        pending_approvals=[a for a in approvals if a.status == "pending"],
        approvals=approvals,
        failed_writes=unresolved_failures(run),
    )


def step_view(step: Step) -> StepView:
    return StepView(
        step=step.number,
        status=step.status.value,
        reasoning=step.reasoning,
        confidence=step.confidence,
        planner=step.planner,
        model=step.model,
        calls=[call_view(c) for c in step.calls],
        final_answer=step.final_answer,
        help_request=step.help_request,
        error=step.error,
        usage=step.usage,
        deferrals=step.deferrals,
        deferred_reason=step.deferred_reason,
        started_at=step.started_at,
        ended_at=step.ended_at,
    )


def call_view(call: CallRecord) -> CallView:
    decision = call.decision
    return CallView(
        call_id=call.call_id,
        tool=call.tool,
        args=call.args,
        cloud=call.cloud,
        side_effect=call.side_effect,
        status=call.status.value,
        decision=DecisionView(
            verdict=decision.verdict.value, reasons=decision.reasons, rule_ids=decision.rule_ids
        )
        if decision
        else None,
        approval_id=call.approval_id,
        executed=call.executed,
        status_code=call.status_code,
        result=call.result,
        result_valid=call.result_valid,
        untrusted=call.untrusted,
        quarantined=call.quarantined,
        error=call.error,
        drift=call.drift,
        worker=call.worker,
        started_at=call.started_at,
        ended_at=call.ended_at,
    )


def approval_view(run: Run, approval: Approval) -> ApprovalView:
    """The approval with the exact arguments of the call it is bound to (when loaded)."""
    args = None
    for step in run.steps:
        if step.index == approval.step_index:
            call = next((c for c in step.calls if c.call_id == approval.call_id), None)
            args = call.args if call is not None else None
    return ApprovalView(
        id=approval.id,
        run_id=run.id,
        tenant=run.tenant,
        goal=run.goal,
        step=step_number(approval.step_index),
        call_id=approval.call_id,
        tool=approval.tool,
        args=args,
        args_hash=approval.args_hash,
        reasons=approval.reasons,
        rule_ids=approval.rule_ids,
        reasoning=approval.reasoning,
        confidence=approval.confidence,
        status=approval.status,
        requested_by=approval.requested_by,
        decided_by=approval.decided_by,
        comment=approval.comment,
        created_at=approval.created_at,
        expires_at=approval.expires_at,
        decided_at=approval.decided_at,
    )
