"""Live, human-readable output of a run as it advances."""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

from core.domain import CallRecord, CallStatus, Run, Step

_CLOUD = {"aws": "AWS", "azure": "Azure", "external": "external"}
_MARK = {
    CallStatus.DONE: "ok",
    CallStatus.ERROR: "error",
    CallStatus.DENIED: "DENIED",
    CallStatus.AWAITING_APPROVAL: "needs approval",
    CallStatus.REJECTED: "rejected",
}


def short(value: Any, limit: int = 160) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def format_args(args: dict[str, Any]) -> str:
    return ", ".join(f"{k}={short(v, 60)}" for k, v in args.items())


class LiveConsole:
    """A ``RunObserver`` that prints each step, call, decision and result."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout

    def _p(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def step_planned(self, run: Run, step: Step) -> None:
        conf = f"  confidence {step.confidence:.2f}" if step.confidence is not None else ""
        self._p(f"\nstep {step.index + 1}{conf}")
        if step.reasoning:
            label = "answer:  " if step.final_answer == step.reasoning else "thinking:"
            self._p(f"  {label} {short(step.reasoning, 400)}")
        if step.final_answer is not None and step.final_answer != step.reasoning:
            self._p(f"  answer:   {short(step.final_answer, 400)}")
        if step.error:
            self._p(f"  note:     {step.error}")

    def call_decided(self, run: Run, step: Step, call: CallRecord) -> None:
        where = _CLOUD.get(call.cloud, call.cloud)
        self._p(f"  -> {call.tool}({format_args(call.args)})  [{where} · {call.side_effect}]")
        decision = call.decision
        if decision is None:
            return
        rules = f" ({', '.join(decision.rule_ids)})" if decision.rule_ids else ""
        self._p(f"     guard: {decision.verdict.value}{rules}")
        if decision.verdict.value != "allow":
            for reason in decision.reasons:
                self._p(f"       - {short(reason, 300)}")

    def call_finished(self, run: Run, step: Step, call: CallRecord) -> None:
        mark = _MARK.get(call.status, call.status.value)
        code = f"HTTP {call.status_code} " if call.status_code is not None else ""
        worker = f" on the {call.worker} worker" if call.worker not in (None, "local") else ""
        detail = (
            call.error if call.error and call.status is CallStatus.ERROR else short(call.result)
        )
        self._p(f"     <- {code}{mark}{worker}: {detail}")
        drift = [d for d in call.drift if d.get("blocking", True)]
        if drift:
            self._p(f"     schema drift: {short(drift, 300)}")
        for notice in call.drift:
            if not notice.get("blocking", True):
                self._p(f"     notice: {short(notice.get('error'), 300)}")

    def run_paused(self, run: Run) -> None:
        for approval in run.pending_approvals:
            self._p(f"\n  paused for approval {approval.id}: {approval.tool}")
            for reason in approval.reasons:
                self._p(f"    - {short(reason, 300)}")

    def run_finished(self, run: Run) -> None:
        return None

    def approval_decided(self, approval_id: str, approved: bool, approver: str) -> None:
        verdict = "approved" if approved else "rejected"
        self._p(f"  approval {approval_id} {verdict} by {approver}")


def print_summary(run: Run, out: TextIO, *, planner_label: str) -> None:
    p = out.write
    p("\n" + "-" * 72 + "\n")
    p(f"run {run.id}: {run.status.value.upper()}\n")
    if run.result:
        p(f"result:   {run.result}\n")
    for mark in run.result_untrusted:
        p(f"          untrusted in the answer: {mark}\n")
    if run.reason and run.status.value != "succeeded":
        p(f"reason:   {run.reason}\n")
    calls = [c for s in run.steps for c in s.calls]
    clouds = sorted({c.cloud for c in calls if c.executed})
    denied = sum(1 for c in calls if c.status is CallStatus.DENIED)
    p(
        f"steps:    {len(run.steps)}    tool calls executed: {run.tool_calls}    "
        f"denied: {denied}    clouds: {', '.join(clouds) or '-'}\n"
    )
    u = run.usage
    p(f"planner:  {planner_label}\n")
    p(
        f"tokens:   {u.prompt_tokens} prompt + {u.completion_tokens} completion    "
        f"cost: ${u.cost_usd:.4f}\n"
    )
    p(f"duration: {(run.updated_at - run.created_at).total_seconds():.2f} s\n")
    out.flush()
