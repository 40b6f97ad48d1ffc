"""The incremental loop index gives the same answers as folding the whole history each time."""

from __future__ import annotations

import random
from collections import Counter

from core.domain import Budget, CallRecord, CallStatus, Run, Step, StepStatus, canonical_json
from core.guardrails._loop_index import loop_state
from core.guardrails.budget import loop_violation


def key(call: CallRecord) -> str:
    return canonical_json(call.args)


def observed(call: CallRecord) -> str | None:
    return canonical_json([call.tool, call.result]) if call.executed else None


def naive(steps: list[Step]) -> tuple[int, int]:
    counts = Counter((c.tool, key(c)) for s in steps for c in s.calls)
    repeats = max(counts.values(), default=0)
    seen: set[str] = set()
    streak = 0
    for step in steps:
        if step.status is not StepStatus.DONE:
            continue
        if step.final_answer is not None:
            streak = 0
            continue
        news = False
        for call in step.calls:
            text = observed(call)
            if text is not None and text not in seen:
                seen.add(text)
                news = True
        streak = 0 if news else streak + 1
    return repeats, streak


def test_incremental_answers_match_a_full_fold_on_random_histories() -> None:
    rng = random.Random(7)
    for trial in range(8):
        run = Run(id=f"run_loop_{trial}", goal="g")
        for i in range(80):
            calls = [
                CallRecord(
                    call_id=f"c{i}-{j}",
                    tool=rng.choice(["a", "b"]),
                    args={"n": rng.randrange(40)},
                    executed=rng.random() < 0.8,
                    result={"v": rng.randrange(30)},
                    status=CallStatus.DONE,
                )
                for j in range(rng.randrange(0, 3))
            ]
            status = StepStatus.DONE if rng.random() < 0.95 else StepStatus.EXECUTING
            final = "done" if rng.random() < 0.03 else None
            run.steps.append(Step(index=i, status=status, calls=calls, final_answer=final))
            if status is StepStatus.EXECUTING and rng.random() < 0.5:
                run.steps[-1].status = StepStatus.DONE  # a step that finishes later
            state = loop_state(run, key, observed)
            assert (state.repeats, state.idle) == naive(run.steps), (trial, i)


def test_a_reloaded_run_is_folded_afresh() -> None:
    run = Run(id="run_reload", goal="g", budget=Budget(max_repeats=3))
    for i in range(10):
        run.steps.append(
            Step(
                index=i,
                status=StepStatus.DONE,
                calls=[
                    CallRecord(
                        call_id=f"c{i}",
                        tool="t",
                        args={"i": i},
                        executed=True,
                        result={"i": i},
                        status=CallStatus.DONE,
                    )
                ],
            )
        )
    assert loop_violation(run) is None
    copy = Run.model_validate_json(run.model_dump_json())
    for i in range(10, 12):  # the same call twice more: 3 with the one at step 9
        copy.steps.append(
            Step(
                index=i,
                status=StepStatus.DONE,
                calls=[
                    CallRecord(
                        call_id=f"c{i}",
                        tool="t",
                        args={"i": 9},
                        executed=True,
                        result={"i": 9},
                        status=CallStatus.DONE,
                    )
                ],
            )
        )
    assert "called 3 times" in (loop_violation(copy) or "")
    assert loop_violation(run) is None  # the original, shorter history still passes
