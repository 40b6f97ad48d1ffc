"""Kill-switch checks on a run's budget and on loops. Pure functions over the run.

Each returns ``None`` when the run may go on, or the reason it must stop, naming the limit.
"""

from __future__ import annotations

from datetime import datetime

from core.domain import (
    CallRecord,
    CallStatus,
    Run,
    Step,
    StepStatus,
    canonical_json,
)
from core.guardrails._loop_index import loop_state
from core.guardrails.repeats import near_key


def budget_violation(run: Run, *, now: datetime) -> str | None:
    """Why the run is over budget (steps, tool calls, tokens, cost, wall time), if it is."""
    budget = run.budget
    steps = max(run.step_count, len(run.steps))
    last = run.steps[-1] if run.steps else None
    planning_next = last is None or last.status is StepStatus.DONE
    if steps > budget.max_steps or (steps >= budget.max_steps and planning_next):
        return f"budget: max_steps={budget.max_steps} reached ({steps} steps)"
    if budget.max_tool_calls is not None:
        pending = _pending_calls(last)
        if run.tool_calls + pending > budget.max_tool_calls:
            return (
                f"budget: max_tool_calls={budget.max_tool_calls} would be exceeded "
                f"({run.tool_calls} made, {pending} more pending)"
            )
    tokens = run.usage.total_tokens
    if budget.max_tokens is not None and tokens >= budget.max_tokens:
        return f"budget: max_tokens={budget.max_tokens} reached ({tokens} used)"
    cost = run.usage.cost_usd
    if budget.max_cost_usd is not None and cost >= budget.max_cost_usd:
        return f"budget: max_cost_usd={budget.max_cost_usd:g} reached (${cost:.4f} spent)"
    elapsed = (now - run.created_at).total_seconds()
    if budget.max_wall_seconds is not None and elapsed > budget.max_wall_seconds:
        return (
            f"budget: max_wall_seconds={budget.max_wall_seconds:g} exceeded "
            f"({elapsed:.1f} s since the run was created)"
        )
    return None


def _pending_calls(step: Step | None) -> int:
    if step is None or step.status is StepStatus.DONE:
        return 0
    return sum(
        1
        for c in step.calls
        if not c.executed and c.status in (CallStatus.APPROVED, CallStatus.EXECUTING)
    )


def loop_violation(run: Run) -> str | None:
    """Why the run looks stuck, if it does.

    Two signs: the same call (tool + arguments, up to trivial differences: see
    ``core.guardrails.repeats``) proposed ``budget.max_repeats`` times across the history,
    whatever became of it; or ``budget.max_idle_steps`` finished steps in a row that brought
    no new information (no result, denial or rejection that had not been seen before).
    """
    budget = run.budget
    state = loop_state(run, _args_hash, _observed)
    if state.repeats and state.repeats >= budget.max_repeats:
        return (
            f"loop: {state.tool} was called {state.repeats} times with the same arguments "
            f"(max_repeats={budget.max_repeats})"
        )
    idle = state.idle
    if idle >= budget.max_idle_steps:
        return (
            f"loop: {idle} steps in a row without new information "
            f"(max_idle_steps={budget.max_idle_steps})"
        )
    return None


def _args_hash(call: CallRecord) -> str:
    # Memoised on the call (these checks run several times per step over the whole history);
    # the key changes whenever the arguments are replaced.
    memo = _memo(call)
    key = f"{id(call.args)}:{call.tool}"
    if memo.get("args-key") == key:
        return memo["args"]
    found = memo["args"] = near_key(call.tool, call.args)
    memo["args-key"] = key
    return found


def _observed(call: CallRecord) -> str | None:
    """What the planner learnt from a call, as comparable text (``None``: nothing yet)."""
    key = (
        f"obs:{call.status.value}:{call.executed}:{call.status_code}:{id(call.result)}:"
        f"{call.error}:{id(call.decision)}"
    )
    memo = _memo(call)
    if memo.get("obs-key") == key:
        return memo["obs"]
    found = _observe(call)
    if found is not None:
        memo["obs-key"], memo["obs"] = key, found
    return found


def _memo(call: CallRecord) -> dict[str, str]:
    # The private-attribute dict directly: ``call._memo`` goes through pydantic's slow
    # ``__getattr__``, which costs more than the memo saves on short histories.
    private = call.__pydantic_private__
    assert private is not None
    memo: dict[str, str] = private["_memo"]
    return memo


def _observe(call: CallRecord) -> str | None:
    if call.executed or call.result is not None:
        return canonical_json(["result", call.tool, call.status_code, call.result, call.error])
    if call.status in (CallStatus.DENIED, CallStatus.REJECTED) or call.error:
        reasons = call.decision.reasons if call.decision is not None else []
        return canonical_json(["refused", call.tool, call.status.value, reasons, call.error])
    return None
