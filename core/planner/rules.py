"""The offline rule planner: the embedded default, needing no key and no network.

It knows the bundled scenarios only. Each scenario ships a rule script that reads the goal
and the observations so far and returns the next move, as a model would. It is labelled
honestly everywhere it appears: it is not a language model.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.domain import CallRecord, CallStatus, Plan
from core.errors import PlannerError
from core.planner.base import PlanContext

RuleScript = Callable[[PlanContext], Plan]


def _scripts() -> dict[str, RuleScript]:
    from core.scenarios.shipment_delay.rules import next_move as shipment_delay
    from core.scenarios.supply_chain.rules import next_move as supply_chain

    return {"supply-chain": supply_chain, "shipment-delay": shipment_delay}


class RulePlanner:
    """Dispatches to the rule script of the run's scenario."""

    def __init__(self, scripts: dict[str, RuleScript] | None = None) -> None:
        self._scripts = scripts

    @property
    def label(self) -> str:
        return "offline rule planner"

    def plan(self, ctx: PlanContext) -> Plan:
        scripts = self._scripts if self._scripts is not None else _scripts()
        script = scripts.get(ctx.scenario or "")
        if script is None:
            raise PlannerError(
                "the offline rule planner only knows the bundled scenarios "
                f"({', '.join(sorted(scripts))}); use --llm openai for other goals"
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
