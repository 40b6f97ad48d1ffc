"""The offline rule planner: the embedded default, needing no key and no network.

It knows the example workflows only. Each ships a rule script that reads the goal
and the observations so far and returns the next move, as a model would. It is labelled
honestly everywhere it appears: it is not a language model.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from core.domain import CallRecord, CallStatus, Plan
from core.errors import PlannerError
from core.planner.base import PlanContext

RuleScript = Callable[[PlanContext], Plan]


class RulePlanner:
    """Dispatches to the rule script of the run's workflow.

    The scripts are given by whoever builds the planner (the CLI and the dev server give the
    example workflows' scripts); core ships none.
    """

    def __init__(self, scripts: Mapping[str, RuleScript] | None = None) -> None:
        self._scripts = dict(scripts or {})

    @property
    def label(self) -> str:
        return "offline rule planner"

    def plan(self, ctx: PlanContext) -> Plan:
        script = self._scripts.get(ctx.scenario or "")
        if script is None:
            known = ", ".join(sorted(self._scripts)) or "none here"
            raise PlannerError(
                "the offline rule planner only knows the example workflows "
                f"({known}); use --llm openai for other goals"
            )
        return script(ctx)


def calls_of(ctx: PlanContext, tool: str) -> list[CallRecord]:
    """Every call to ``tool`` so far, oldest first."""
    return [c for s in ctx.steps for c in s.calls if c.tool == tool]


def done_results(ctx: PlanContext, tool: str) -> list[tuple[CallRecord, Any]]:
    """(call, parsed result) of the successful calls to ``tool`` so far."""
    return [(c, c.result) for c in calls_of(ctx, tool) if c.status is CallStatus.DONE]


def refused(ctx: PlanContext, tool: str) -> list[CallRecord]:
    """Calls to ``tool`` that guardrails denied or a human rejected."""
    return [c for c in calls_of(ctx, tool) if c.status in (CallStatus.DENIED, CallStatus.REJECTED)]
