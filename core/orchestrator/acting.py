"""Recording what an executed call returned onto its ``CallRecord``, and holding responses
that drifted from the tool's schema."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from core.domain import CallRecord, CallStatus, Decision, Run, Step, Tool, Verdict
from core.drift.runtime import blocking, response_drift
from core.execution.base import ExecutionResult
from core.guardrails.approvals import new_approval
from core.guardrails.base import new_decision_id


def apply_result(call: CallRecord, tool: Tool, result: ExecutionResult, now: datetime) -> None:
    """Copy an execution result onto the call; HTTP errors stay data for the planner."""
    call.executed = result.status_code is not None
    call.status_code = result.status_code
    call.result = result.body
    call.result_valid = result.valid
    call.ended_at = now
    call.drift = response_drift(tool, result)
    if result.error is not None:
        call.error = result.error
        call.status = CallStatus.ERROR
    elif result.status_code is not None and result.status_code >= 400:
        call.error = f"HTTP {result.status_code}"
        call.status = CallStatus.ERROR
    else:
        call.status = CallStatus.DONE


def failed_result(call: CallRecord, error: str, now: datetime) -> None:
    call.status = CallStatus.ERROR
    call.error = error
    call.ended_at = now


def hold_drifted(
    run: Run,
    step: Step,
    drifted: list[CallRecord],
    find: Callable[[str], Tool | None],
    *,
    ttl: timedelta,
) -> str | None:
    """Apply each drifted call's tool drift mode: ``warn`` records it, ``pause`` (the default,
    also for a tool gone from the catalog) quarantines the response and asks a human, ``fail``
    returns the reason to fail the run with."""
    for call in drifted:
        findings = blocking(call.drift)  # deprecation notices are recorded, not acted on
        if not findings:
            continue
        tool = find(call.tool)
        mode = tool.drift_mode if tool is not None else "pause"
        fields = ", ".join(str(d.get("field")) for d in findings)
        if mode == "warn":
            continue
        if mode == "fail":
            return f"schema_drift: {call.tool} ({fields})"
        call.quarantined = True
        decision = Decision(
            id=new_decision_id(),
            verdict=Verdict.REQUIRE_APPROVAL,
            reasons=[
                f"schema drift in the response of {call.tool}: " + str(d.get("error"))
                for d in findings
            ],
            rule_ids=["schema_drift"],
        )
        approval = new_approval(
            run,
            step.index,
            call,
            decision,
            reasoning=step.reasoning,
            confidence=step.confidence,
            ttl=ttl,
        )
        call.approval_id = approval.id
        run.approvals.append(approval)
        run.reason = f"schema_drift: {call.tool} ({fields})"
    return None
