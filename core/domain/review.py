"""Whether a run that the planner finished did the work: failed writes, recovery, call counts.

The planner's final answer is a claim. A run ends ``succeeded`` only when no write or
destructive call is left failed; otherwise it ends ``needs_review`` with those calls listed
(``unresolved_failures``), so a person looks before anyone trusts the claim.

**Recovery.** A failed write is recovered when a *later* call of the same tool succeeded with
the same arguments, volatile fields aside (``VOLATILE_ARGS``: request ids, nonces, timestamps a
client stamps on every attempt). Arguments that differ in anything else are a different
business object (another purchase order, another customer), so the failure stands. The rule
errs towards asking a person: a retry with corrected arguments is reviewed, never guessed at.

Failed reads never hold a run back: the planner saw the error and chose what to do with it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from core.domain.canonical import canonical_json
from core.domain.run import CallRecord, CallStatus, Run, RunStatus, Verdict

REVIEWED_EFFECTS = frozenset({"write", "destructive"})
"""Side effects whose failure a run may not end ``succeeded`` with."""

VOLATILE_ARGS = frozenset(
    {
        "idempotency_key",
        "request_id",
        "client_request_id",
        "correlation_id",
        "trace_id",
        "traceparent",
        "nonce",
        "timestamp",
    }
)
"""Argument names (at any depth) ignored when judging whether two calls serve one purpose."""


class FailedCall(BaseModel):
    """A write or destructive call that failed and was not recovered."""

    step: int
    """The 1-based step number, as every view shows it."""
    call_id: str
    tool: str
    side_effect: str
    args: dict[str, Any]
    status_code: int | None = None
    error: str


class CallCounts(BaseModel):
    """A run's tool calls by what came of them; each call is in at most one bucket but
    ``approved`` (a human approved it; it then also counts as executed or failed)."""

    executed: int = 0
    """Ran and came back successfully."""
    failed: int = 0
    """Ran (or was attempted) and failed: transport error, HTTP 4xx/5xx, refused."""
    denied: int = 0
    """Stopped by the guardrails; never sent."""
    approved: int = 0
    """Approved by a human."""
    rejected: int = 0
    """Rejected by a human; never sent."""
    awaiting_approval: int = 0
    """Waiting for a human decision."""


def step_number(index: int) -> int:
    """The step number people see (1-based) for a stored step index (0-based)."""
    return index + 1


def purpose(call: CallRecord) -> str:
    """What a call is for: its tool and arguments without the volatile fields."""
    return canonical_json({"tool": call.tool, "args": _stable(call.args)})


def _stable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _stable(v) for k, v in value.items() if str(k).lower() not in VOLATILE_ARGS}
    if isinstance(value, list):
        return [_stable(v) for v in value]
    return value


def unresolved_failures(run: Run) -> list[FailedCall]:
    """Failed write or destructive calls that no later successful call of the same purpose
    recovered, in the order they were made."""
    ordered = [(step.index, call) for step in run.steps for call in step.calls]
    unresolved: list[FailedCall] = []
    for position, (index, call) in enumerate(ordered):
        if call.status is not CallStatus.ERROR or call.side_effect not in REVIEWED_EFFECTS:
            continue
        key = purpose(call)
        recovered = any(
            later.status is CallStatus.DONE and purpose(later) == key
            for _, later in ordered[position + 1 :]
        )
        if not recovered:
            unresolved.append(
                FailedCall(
                    step=step_number(index),
                    call_id=call.call_id,
                    tool=call.tool,
                    side_effect=call.side_effect,
                    args=call.args,
                    status_code=call.status_code,
                    error=call.error or "failed",
                )
            )
    return unresolved


def review_reason(failures: list[FailedCall]) -> str:
    """One line for ``run.reason``: which calls failed and how."""
    shown = "; ".join(f"step {f.step} {f.tool}: {f.error}" for f in failures[:3])
    more = f"; and {len(failures) - 3} more" if len(failures) > 3 else ""
    noun = "call" if len(failures) == 1 else "calls"
    return f"needs review: {len(failures)} failed write {noun} not recovered ({shown}{more})"


def count_calls(run: Run) -> CallCounts:
    """Count the run's calls by outcome (needs the steps loaded)."""
    counts = CallCounts()
    for step in run.steps:
        for call in step.calls:
            _count(counts, call)
    return counts


def _count(counts: CallCounts, call: CallRecord) -> None:
    status = call.status
    if status is CallStatus.DONE:
        counts.executed += 1
    elif status is CallStatus.ERROR:
        counts.failed += 1
    elif status is CallStatus.DENIED:
        counts.denied += 1
    elif status is CallStatus.REJECTED:
        counts.rejected += 1
    elif status is CallStatus.AWAITING_APPROVAL:
        counts.awaiting_approval += 1
    asked = call.decision is not None and call.decision.verdict is Verdict.REQUIRE_APPROVAL
    if asked and status in (
        CallStatus.APPROVED,
        CallStatus.EXECUTING,
        CallStatus.DONE,
        CallStatus.ERROR,
    ):
        counts.approved += 1


def final_status(run: Run) -> tuple[RunStatus, str | None]:
    """How a run whose planner gave its final answer ends, and why (``None``: it succeeded)."""
    failures = unresolved_failures(run)
    if failures:
        return RunStatus.NEEDS_REVIEW, review_reason(failures)
    return RunStatus.SUCCEEDED, None
