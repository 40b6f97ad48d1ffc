"""A worker that loses the race for a run leaves it to the winner: no second advance chain."""

from __future__ import annotations

from core.api.worker import Outcome, process_envelope
from core.domain import Plan, Run
from core.guardrails.base import PassThroughGuard
from core.orchestrator.engine import Orchestrator
from core.planner.base import PlanContext
from core.queue.base import Envelope
from core.queue.memory import MemoryQueue
from core.state.memory import MemoryStore
from paddock.testing.planner import ScriptedPlanner
from tests.orchestrator.service import ToolList, tools


def test_a_worker_that_loses_the_race_sends_no_continuation() -> None:
    store, queue = MemoryStore(), MemoryQueue()

    def meanwhile_another_worker_moves_the_run_on(ctx: PlanContext) -> Plan:
        head = store.get_run(ctx.run_id, with_steps=False)
        store.checkpoint(
            head.model_copy(update={"reason": "the other worker"}), expected_version=head.version
        )
        return Plan(reasoning="done", final_answer="done")

    catalog = ToolList(tools("http://127.0.0.1:9"))
    orch = Orchestrator(
        store=store,
        catalogs=lambda run: catalog,
        planners=lambda run: ScriptedPlanner([meanwhile_another_worker_moves_the_run_on]),
        guard=PassThroughGuard(),
        executor=None,
    )  # type: ignore[arg-type]
    run = orch.create(Run(id="run_race", goal="anything"))
    out = process_envelope(
        Envelope(run_id=run.id, expected_version=run.version, target="local"),
        orch,
        {"local": queue},
    )
    assert out.outcome is Outcome.IDLE
    assert queue.receive(max_messages=10) == []  # the winner, not the loser, sends the next
    assert store.get_run(run.id).reason == "the other worker"
