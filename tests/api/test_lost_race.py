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


class MovesOnAfterTheCheck(MemoryStore):
    """Another worker checkpoints the run right after this worker read its head."""

    def __init__(self) -> None:
        super().__init__()
        self.moved = False

    def get_run(self, run_id: str, *, with_steps: bool = True) -> Run:
        run = super().get_run(run_id, with_steps=with_steps)
        if not with_steps and not self.moved:
            self.moved = True
            self.checkpoint(
                run.model_copy(update={"reason": "the other worker"}), expected_version=run.version
            )
        return run


def test_a_run_that_moves_on_between_the_check_and_the_advance_is_left_to_its_mover() -> None:
    store, queue = MovesOnAfterTheCheck(), MemoryQueue()
    planner = ScriptedPlanner([Plan(final_answer="done")])
    orch = Orchestrator(
        store=store,
        catalogs=lambda run: ToolList([]),
        planners=lambda run: planner,
        guard=PassThroughGuard(),
        executor=None,
    )  # type: ignore[arg-type]
    run = orch.create(Run(id="run_moved", goal="anything"))
    out = process_envelope(
        Envelope(run_id=run.id, expected_version=run.version, target="local"),
        orch,
        {"local": queue},
    )
    assert out.outcome is Outcome.IDLE and out.version == run.version + 1
    assert queue.receive(max_messages=10) == []  # the advance found it stale: no second chain
    assert planner.contexts == []
