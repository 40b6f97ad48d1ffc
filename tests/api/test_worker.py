"""process_envelope: bounded advancing, re-enqueueing, duplicates, and handoff between clouds."""

from __future__ import annotations

from typing import Any

from core.api.worker import Outcome, QueueHandoff, process_envelope
from core.domain import CallStatus, Location, Run, RunStatus
from core.execution.http import HttpExecutor
from core.guardrails.base import PassThroughGuard
from core.orchestrator.engine import Orchestrator
from core.queue.base import Envelope
from core.queue.memory import MemoryQueue
from core.state.memory import MemoryStore
from paddock.testing.planner import ScriptedPlanner
from tests.api.world import ORDER_FLOW
from tests.orchestrator.service import OrdersService, ToolList, tools


class Mesh:
    """One shared store, one queue per cloud, one orchestrator per cloud."""

    def __init__(self, url: str, *, order_cloud: Location = Location.AZURE) -> None:
        self.store = MemoryStore()
        self.queues = {"aws": MemoryQueue(), "azure": MemoryQueue()}
        catalog = ToolList(tools(url, order_cloud=order_cloud))
        planners: dict[str, ScriptedPlanner] = {}

        def planner_for(run: Run) -> ScriptedPlanner:
            return planners.setdefault(run.id, ScriptedPlanner(ORDER_FLOW))

        self.orchestrators = {
            cloud: Orchestrator(
                store=self.store,
                catalogs=lambda run: catalog,
                planners=planner_for,
                guard=PassThroughGuard(),
                executor=HttpExecutor(),
                cloud=cloud,
                handoff=QueueHandoff(self.queues, sender=cloud),
            )
            for cloud in ("aws", "azure")
        }

    def create(self, run_id: str = "run_mesh") -> Envelope:
        run = self.orchestrators["aws"].create(Run(id=run_id, goal="order 5 of A-1"))
        return Envelope(run_id=run.id, expected_version=run.version, target="aws")

    def process(self, cloud: str, envelope: Envelope, **kw: Any) -> Any:
        return process_envelope(envelope, self.orchestrators[cloud], self.queues, **kw)

    def take(self, cloud: str) -> Envelope:
        [message] = self.queues[cloud].receive(10)
        self.queues[cloud].ack(message)
        return message.envelope


def test_run_starts_on_aws_is_handed_to_azure_and_finishes_there(
    orders: tuple[OrdersService, str],
) -> None:
    service, url = orders
    mesh = Mesh(url)
    first = mesh.process("aws", mesh.create())
    assert (first.outcome, first.target) == (Outcome.HANDED_OFF, "azure")
    assert len(mesh.queues["aws"]) == 0
    handed = mesh.take("azure")
    assert (handed.target, handed.sender, handed.expected_version) == (
        "azure",
        "aws",
        first.version,
    )
    done = mesh.process("azure", handed)
    assert done.outcome is Outcome.FINISHED and done.status is RunStatus.SUCCEEDED
    run = mesh.store.get_run("run_mesh")
    assert [c.worker for s in run.steps for c in s.calls] == ["aws", "azure"]
    assert run.steps[1].calls[0].status is CallStatus.DONE
    assert len(service.orders) == 1


def test_a_duplicate_handoff_message_is_dropped_without_a_second_order(
    orders: tuple[OrdersService, str],
) -> None:
    service, url = orders
    mesh = Mesh(url)
    mesh.process("aws", mesh.create())
    handed = mesh.take("azure")
    mesh.process("azure", handed)
    again = mesh.process("azure", handed)  # at-least-once delivery: the same message again
    assert again.outcome is Outcome.STALE
    assert len(service.orders) == 1


def test_bounded_steps_re_enqueue_on_the_same_cloud(orders: tuple[OrdersService, str]) -> None:
    _, url = orders
    mesh = Mesh(url, order_cloud=Location.EXTERNAL)
    outcome = mesh.process("aws", mesh.create(), max_steps=1)
    assert outcome.outcome is Outcome.CONTINUED and outcome.target == "aws"
    nxt = mesh.take("aws")
    assert nxt.expected_version == outcome.version
    seen = [outcome.outcome]
    while seen[-1] is Outcome.CONTINUED:
        seen.append(mesh.process("aws", nxt, max_steps=1).outcome)
        if seen[-1] is Outcome.CONTINUED:
            nxt = mesh.take("aws")
    assert seen[-1] is Outcome.FINISHED and len(seen) == 3


def test_unknown_run_is_dropped_and_misrouted_envelopes_are_forwarded(
    orders: tuple[OrdersService, str],
) -> None:
    _, url = orders
    mesh = Mesh(url)
    ghost = Envelope(run_id="run_ghost", expected_version=1, target="aws")
    assert mesh.process("aws", ghost).outcome is Outcome.DROPPED
    envelope = mesh.create()
    forwarded = mesh.process("azure", envelope)
    assert forwarded.outcome is Outcome.FORWARDED
    assert mesh.take("aws") == envelope
    assert mesh.store.get_run(envelope.run_id).version == 1  # the Azure worker did nothing
