"""How a finished run is judged (``core.domain.review``): which failures stand, what counts as
recovery, and how calls are counted."""

from __future__ import annotations

from typing import Any

from core.domain import (
    CallRecord,
    CallStatus,
    Decision,
    Run,
    RunStatus,
    Step,
    Verdict,
    count_calls,
    final_status,
    unresolved_failures,
)


def call(tool: str, status: CallStatus, *, effect: str = "write", **args: Any) -> CallRecord:
    return CallRecord(
        call_id=f"{tool}-{status.value}-{len(args)}",
        tool=tool,
        args=args,
        side_effect=effect,
        status=status,
        error="HTTP 503" if status is CallStatus.ERROR else None,
    )


def run_of(*steps: list[CallRecord]) -> Run:
    return Run(
        id="run_j",
        goal="g",
        steps=[Step(index=i, calls=calls) for i, calls in enumerate(steps)],
    )


def test_volatile_fields_at_any_depth_do_not_change_the_purpose() -> None:
    run = run_of(
        [call("create_order", CallStatus.ERROR, body={"item": "A", "request_id": "r1"}, nonce=1)],
        [call("create_order", CallStatus.DONE, body={"item": "A", "Request_Id": "r2"}, nonce=2)],
    )
    assert unresolved_failures(run) == []
    assert final_status(run) == (RunStatus.SUCCEEDED, None)


def test_an_earlier_success_does_not_recover_a_later_failure() -> None:
    run = run_of(
        [call("create_order", CallStatus.DONE, item="A")],
        [call("create_order", CallStatus.ERROR, item="A")],
    )
    [failed] = unresolved_failures(run)
    assert failed.step == 2
    status, reason = final_status(run)
    assert status is RunStatus.NEEDS_REVIEW
    assert (
        reason == "needs review: 1 failed write call not recovered (step 2 create_order: HTTP 503)"
    )


def test_another_tool_or_a_failed_retry_is_no_recovery_and_destructive_calls_count() -> None:
    run = run_of(
        [
            call("delete_item", CallStatus.ERROR, effect="destructive", item="A"),
            call("create_order", CallStatus.ERROR, item="A"),
        ],
        [
            call("update_order", CallStatus.DONE, item="A"),
            call("create_order", CallStatus.ERROR, item="A"),
        ],
    )
    assert [(f.step, f.tool) for f in unresolved_failures(run)] == [
        (1, "delete_item"),
        (1, "create_order"),
        (2, "create_order"),
    ]


def test_failed_reads_and_denied_writes_do_not_hold_a_run_back() -> None:
    run = run_of(
        [call("get_item", CallStatus.ERROR, effect="read", item="A")],
        [call("create_order", CallStatus.DENIED, item="A")],
    )
    assert final_status(run) == (RunStatus.SUCCEEDED, None)


def test_calls_are_counted_by_outcome() -> None:
    asked = Decision(id="d", verdict=Verdict.REQUIRE_APPROVAL)
    approved_done = call("create_order", CallStatus.DONE, item="A")
    approved_done.decision = asked
    rejected = call("create_order", CallStatus.REJECTED, item="B")
    rejected.decision = asked
    waiting = call("create_order", CallStatus.AWAITING_APPROVAL, item="C")
    waiting.decision = asked
    run = run_of(
        [call("get_item", CallStatus.DONE, effect="read"), call("x", CallStatus.ERROR)],
        [approved_done, rejected, waiting, call("y", CallStatus.DENIED)],
    )
    counts = count_calls(run)
    assert counts.model_dump() == {
        "executed": 2,
        "failed": 1,
        "denied": 1,
        "approved": 1,
        "rejected": 1,
        "awaiting_approval": 1,
    }
