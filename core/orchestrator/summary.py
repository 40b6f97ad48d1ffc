"""The documented JSON summary of a run (``--json`` output and the API's run view)."""

from __future__ import annotations

from typing import Any

from core.domain import Run
from core.telemetry.cost import cost_breakdown


def call_summaries(run: Run) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []
    for step in run.steps:
        for call in step.calls:
            decision = call.decision
            calls.append(
                {
                    "step": step.index,
                    "call_id": call.call_id,
                    "tool": call.tool,
                    "cloud": call.cloud,
                    "side_effect": call.side_effect,
                    "args": call.args,
                    "decision": decision.verdict.value if decision else None,
                    "rule_ids": decision.rule_ids if decision else [],
                    "reasons": decision.reasons if decision else [],
                    "status": call.status.value,
                    "approval_id": call.approval_id,
                    "executed": call.executed,
                    "status_code": call.status_code,
                    "result_valid": call.result_valid,
                    "drift": call.drift,
                    "spec_version": call.spec_version,
                    "worker": call.worker,
                    "error": call.error,
                }
            )
    return calls


def run_summary(run: Run) -> dict[str, Any]:
    """One JSON object: the contract of ``paddock run --json`` (see docs/cli.md)."""
    return {
        "run_id": run.id,
        "status": run.status.value,
        "goal": run.goal,
        "tenant": run.tenant,
        "workflow": run.scenario,
        "workflow_version": run.workflow_version,
        "steps": len(run.steps),
        "calls": call_summaries(run),
        "usage": {
            "prompt_tokens": run.usage.prompt_tokens,
            "completion_tokens": run.usage.completion_tokens,
            "cost_usd": run.usage.cost_usd,
        },
        "cost": cost_breakdown(run),
        "tool_calls": run.tool_calls,
        "pending_approvals": [a.model_dump(mode="json") for a in run.pending_approvals],
        "result": run.result,
        "reason": run.reason,
        "error": run.error,
        "planner": run.steps[0].planner if run.steps else run.planner,
        "duration_seconds": round((run.updated_at - run.created_at).total_seconds(), 3),
    }
