"""Budgets and loop detection: the reason names the limit that stopped the run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from core.domain import (
    Budget,
    CallRecord,
    CallStatus,
    Decision,
    Run,
    Step,
    StepStatus,
    Usage,
    Verdict,
)
from core.guardrails import budget_violation, loop_violation

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def read(tool: str = "get_stock", result: Any = None, **args: Any) -> CallRecord:
    return CallRecord(
        call_id="c",
        tool=tool,
        args=args or {"part": "P-100"},
        executed=True,
        status=CallStatus.DONE,
        status_code=200,
        result=result if result is not None else {"available": 0},
    )


def run_with(*steps: Step, budget: Budget | None = None, **fields: Any) -> Run:
    return Run(
        id="run_b",
        goal="g",
        steps=list(steps),
        step_count=len(steps),
        budget=budget or Budget(),
        created_at=T0,
        **fields,
    )


def done_step(index: int, *calls: CallRecord) -> Step:
    return Step(index=index, status=StepStatus.DONE, calls=list(calls))


def test_a_fresh_run_is_within_budget() -> None:
    assert budget_violation(run_with(), now=T0) is None
    assert loop_violation(run_with()) is None


def test_max_steps_stops_before_planning_one_more() -> None:
    budget = Budget(max_steps=2)
    one = run_with(done_step(0, read(part="P-1")), budget=budget)
    assert budget_violation(one, now=T0) is None
    two = run_with(done_step(0, read(part="P-1")), done_step(1, read(part="P-2")), budget=budget)
    assert budget_violation(two, now=T0) == "budget: max_steps=2 reached (2 steps)"


def test_the_last_allowed_step_may_still_finish() -> None:
    acting = Step(
        index=1,
        status=StepStatus.EXECUTING,
        calls=[CallRecord(call_id="c", tool="get_stock", status=CallStatus.APPROVED)],
    )
    run = run_with(done_step(0, read()), acting, budget=Budget(max_steps=2))
    assert budget_violation(run, now=T0) is None


def test_max_tool_calls_counts_the_calls_about_to_run() -> None:
    pending = Step(
        index=1,
        status=StepStatus.EXECUTING,
        calls=[
            CallRecord(call_id=f"c{i}", tool="get_stock", status=CallStatus.APPROVED)
            for i in range(2)
        ],
    )
    run = run_with(done_step(0, read()), pending, budget=Budget(max_tool_calls=2), tool_calls=1)
    reason = budget_violation(run, now=T0)
    assert reason == "budget: max_tool_calls=2 would be exceeded (1 made, 2 more pending)"
    assert budget_violation(run_with(budget=Budget(max_tool_calls=2), tool_calls=2), now=T0) is None


def test_max_tokens() -> None:
    run = run_with(
        budget=Budget(max_tokens=1000), usage=Usage(prompt_tokens=900, completion_tokens=150)
    )
    assert budget_violation(run, now=T0) == "budget: max_tokens=1000 reached (1050 used)"


def test_max_cost_usd() -> None:
    run = run_with(budget=Budget(max_cost_usd=10.0), usage=Usage(cost_usd=10.25))
    assert budget_violation(run, now=T0) == "budget: max_cost_usd=10 reached ($10.2500 spent)"
    cheap = run_with(budget=Budget(max_cost_usd=10.0), usage=Usage(cost_usd=9.99))
    assert budget_violation(cheap, now=T0) is None


def test_max_wall_seconds() -> None:
    run = run_with(budget=Budget(max_wall_seconds=60))
    assert budget_violation(run, now=T0 + timedelta(seconds=60)) is None
    reason = budget_violation(run, now=T0 + timedelta(seconds=61))
    assert reason == "budget: max_wall_seconds=60 exceeded (61.0 s since the run was created)"


def test_the_same_call_repeated_is_a_loop() -> None:
    steps = [done_step(i, read(part="P-100")) for i in range(2)]
    assert loop_violation(run_with(*steps)) is None
    steps.append(done_step(2, read(part="P-100")))
    assert loop_violation(run_with(*steps)) == (
        "loop: get_stock was called 3 times with the same arguments (max_repeats=3)"
    )


def test_a_denied_call_retried_is_a_loop_too() -> None:
    denied = [
        Step(
            index=i,
            status=StepStatus.DONE,
            calls=[
                CallRecord(
                    call_id="c",
                    tool="delete_vendor",
                    args={"vendor_id": "V-2001"},
                    status=CallStatus.DENIED,
                    decision=Decision(id="d", verdict=Verdict.DENY, reasons=["no"]),
                )
            ],
        )
        for i in range(2)
    ]
    reason = loop_violation(run_with(*denied, budget=Budget(max_repeats=2)))
    assert reason is not None and "delete_vendor was called 2 times" in reason


def test_steps_without_new_information_are_a_loop() -> None:
    budget = Budget(max_idle_steps=3)
    steps = [done_step(0, read(part="P-1", result={"available": 0}))]
    # Different arguments each time, always the same answer: nothing new is learnt.
    steps += [done_step(i, read(part=f"P-{i + 1}", result={"available": 0})) for i in range(1, 3)]
    assert loop_violation(run_with(*steps, budget=budget)) is None
    steps.append(done_step(3, read(part="P-9", result={"available": 0})))
    assert loop_violation(run_with(*steps, budget=budget)) == (
        "loop: 3 steps in a row without new information (max_idle_steps=3)"
    )


def test_new_results_reset_the_idle_count() -> None:
    budget = Budget(max_idle_steps=2)
    steps = [done_step(i, read(part=f"P-{i}", result={"available": i})) for i in range(6)]
    assert loop_violation(run_with(*steps, budget=budget)) is None


def test_the_same_refusal_again_brings_no_news() -> None:
    def refused(i: int) -> Step:
        return Step(
            index=i,
            status=StepStatus.DONE,
            calls=[
                CallRecord(
                    call_id="c",
                    tool="send_supplier_message",
                    args={"n": i},
                    status=CallStatus.DENIED,
                    decision=Decision(id="d", verdict=Verdict.DENY, reasons=["message_limit"]),
                )
            ],
        )

    steps = [refused(i) for i in range(3)]
    assert loop_violation(run_with(*steps, budget=Budget(max_idle_steps=2))) is not None
    assert loop_violation(run_with(*steps, budget=Budget(max_idle_steps=3))) is None
