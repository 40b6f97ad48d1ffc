"""A fan-out world for child-run tests: a parent that spawns one child per task, children
that answer (or fail) from their inputs, the memory store and queue, and a queue drainer."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

from core.api.worker import WorkOutcome, process_envelope
from core.domain import Grant, Plan, ProposedCall, Run, Usage
from core.errors import PlannerError
from core.execution.http import HttpExecutor
from core.guardrails.base import Guard, PassThroughGuard
from core.orchestrator.children import SPAWN_TOOL, ChildRuns, with_subtask_tool
from core.orchestrator.engine import Orchestrator
from core.planner.base import PlanContext
from core.queue.base import Envelope
from core.queue.memory import MemoryQueue
from core.state.base import RunStore
from core.state.memory import MemoryStore
from tests.orchestrator.service import ToolList


class FanPlanner:
    """Parent (no ``n`` input): spawn ``inputs["tasks"]``, then answer with the spawn's
    observation. Child: fail when ``inputs["fail"]``, else answer ``child <n> ok``."""

    label = "fan-out planner"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.plans: dict[str, int] = {}

    def plan(self, ctx: PlanContext) -> Plan:
        with self._lock:
            self.plans[ctx.run_id] = self.plans.get(ctx.run_id, 0) + 1
        if "n" in ctx.inputs:
            if ctx.inputs.get("fail"):
                raise PlannerError(f"child {ctx.inputs['n']} cannot do this")
            return Plan(
                final_answer=f"child {ctx.inputs['n']} ok",
                usage=Usage(prompt_tokens=10, completion_tokens=5),
            )
        if not ctx.steps:
            return Plan(
                reasoning="fan out",
                usage=Usage(prompt_tokens=100),
                calls=[
                    ProposedCall(id="spawn", tool=SPAWN_TOOL, args={"tasks": ctx.inputs["tasks"]})
                ],
            )
        call = ctx.steps[-1].calls[0]
        return Plan(final_answer=json.dumps(call.result, sort_keys=True), reasoning="gathered")


def tasks(count: int, *, failing: tuple[int, ...] = ()) -> list[dict[str, Any]]:
    return [
        {"goal": f"assess supplier {n}", "inputs": {"n": n, "fail": n in failing}}
        for n in range(count)
    ]


class QueueClock:
    """The queue's time: still unless a test moves it (delayed messages wait for that)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@dataclass
class World:
    store: RunStore = field(default_factory=MemoryStore)
    clock: QueueClock = field(default_factory=QueueClock)
    planner: FanPlanner = field(default_factory=FanPlanner)
    guard: Guard = field(default_factory=PassThroughGuard)
    outcomes: list[WorkOutcome] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.queue = MemoryQueue(clock=self.clock)
        self.children = ChildRuns(self.store, {"local": self.queue})
        catalog = ToolList([])
        self.orch = Orchestrator(
            store=self.store,
            catalogs=with_subtask_tool(lambda r: catalog),
            planners=lambda r: self.planner,
            guard=self.guard,
            executor=HttpExecutor(),
            children=self.children,
        )

    def start(
        self,
        count: int,
        *,
        failing: tuple[int, ...] = (),
        max_children: int = 100,
        running: int = 10,
        run_id: str = "run_parent",
    ) -> Run:
        run = Run(
            id=run_id,
            goal="assess every supplier",
            inputs={"tasks": tasks(count, failing=failing)},
            grant=Grant(max_children=max_children),
        )
        run.budget.max_running_children = running
        run = self.orch.create(run)
        self.queue.send(Envelope(run_id=run.id, expected_version=run.version, target="local"))
        return run

    def step(self) -> list[Envelope]:
        """Process every message visible now (one pass); returns their envelopes."""
        got = self.queue.receive(max_messages=1000)
        for message in got:
            self.outcomes.append(
                process_envelope(message.envelope, self.orch, {"local": self.queue})
            )
            self.queue.ack(message)
        return [m.envelope for m in got]

    def drain(self, limit: int = 500) -> None:
        for _ in range(limit):
            if not self.step():
                return
        raise AssertionError("the queue never drained")
