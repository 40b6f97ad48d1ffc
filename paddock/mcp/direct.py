"""The planner of runs made for MCP client calls (no MCP import: ``paddock approve`` resumes
these runs without the ``mcp`` package)."""

from __future__ import annotations

import threading

from core.domain import Plan, ProposedCall, Run
from core.planner.base import PlanContext, observation


class DirectCalls:
    """The planner of MCP runs: proposes the client's call, then reports its outcome."""

    label = "MCP client (direct call)"

    def __init__(self) -> None:
        self._calls: dict[str, ProposedCall] = {}
        self._lock = threading.Lock()

    def expect(self, run_id: str, call: ProposedCall) -> None:
        with self._lock:
            self._calls[run_id] = call

    def plan(self, ctx: PlanContext) -> Plan:
        if not ctx.steps:
            with self._lock:
                call = self._calls.pop(ctx.run_id)
            return Plan(reasoning="called by an MCP client", calls=[call])
        last = ctx.steps[-1].calls[0] if ctx.steps[-1].calls else None
        return Plan(
            reasoning="reporting the call's outcome",
            final_answer=observation(last) if last else "nothing was called",
        )

    def __call__(self, run: Run) -> DirectCalls:
        return self
