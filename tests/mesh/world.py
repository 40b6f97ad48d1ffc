"""A mesh world for tests: the shipment-delay services, a store, queues per cloud, the real
guard and HTTP executor, and orchestrators wired with an agent mesh."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from core.domain import Budget, Plan, ProposedCall, Run
from core.identity import Identity
from core.mesh import WorkflowMeshes, with_mesh
from core.orchestrator.children import ChildRuns
from core.orchestrator.engine import Handoff, Orchestrator
from core.planner.base import PlanContext, Planner
from core.planner.rules import RulePlanner
from core.queue.base import TaskQueue
from core.runtime import RunCatalogs, WorkflowGuard, default_executor
from core.state.base import RunStore
from core.state.memory import MemoryStore
from core.telemetry.tracing import RunTracer
from examples import example_workflows, get_example, rule_scripts
from examples.shipment_delay import ShipmentDelayServices
from paddock.local.mesh import LocalMesh, memory_queues

SCENARIO = "shipment-delay"


class Scripted:
    """A planner that plays ``moves`` in order (each a Plan or a function of the context);
    when they run out it answers ``done``."""

    label = "scripted planner"

    def __init__(self, moves: list[Plan | Callable[[PlanContext], Plan]]) -> None:
        self.moves = list(moves)
        self.seen: list[PlanContext] = []

    def plan(self, ctx: PlanContext) -> Plan:
        self.seen.append(ctx)
        if not self.moves:
            return Plan(final_answer="done")
        move = self.moves.pop(0)
        return move(ctx) if callable(move) else move.model_copy(deep=True)


def call(tool: str, args: dict[str, Any], n: int = 0) -> ProposedCall:
    return ProposedCall(id=f"{tool}-{n}-{uuid.uuid4().hex[:4]}", tool=tool, args=args)


@dataclass
class MeshWorld:
    services: ShipmentDelayServices
    store: RunStore = field(default_factory=MemoryStore)
    queues: dict[str, TaskQueue] = field(default_factory=memory_queues)
    meshes: WorkflowMeshes = field(
        default_factory=lambda: WorkflowMeshes(example_workflows().agent_dirs())
    )
    scripted: dict[str, Planner] = field(default_factory=dict)
    """Planners by agent name; agents not named here use the offline rule scripts."""
    tracing: RunTracer | None = None

    def planner_for(self, run: Run) -> Planner:
        return self.scripted.get(run.agent or "") or RulePlanner(rule_scripts())

    identity: Identity | None = None
    """Credentials for every call (and the services then verify them); None: no auth."""

    def orchestrator(
        self,
        cloud: str = "local",
        *,
        handoff: Handoff | None = None,
        queues: Mapping[str, TaskQueue] | None = None,
    ) -> Orchestrator:
        queues = queues if queues is not None else self.queues
        return with_mesh(
            Orchestrator(
                store=self.store,
                catalogs=RunCatalogs(example_workflows()),
                planners=self.planner_for,
                guard=WorkflowGuard(example_workflows()),
                executor=default_executor(self.identity),
                capabilities=self.identity.minter if self.identity is not None else None,
                cloud=cloud,
                handoff=handoff,
                children=ChildRuns(self.store, queues, cloud=cloud),
                tracing=self.tracing or RunTracer(cloud=cloud),
            ),
            self.meshes,
        )

    def local(self) -> LocalMesh:
        return LocalMesh({"local": self.orchestrator()}, self.queues)

    def root(
        self,
        *,
        agent: str = "logistics_planning",
        budget: Budget | None = None,
        goal: str | None = None,
    ) -> Run:
        scenario = get_example(SCENARIO)
        mesh = self.meshes.for_workflow(SCENARIO)
        assert mesh is not None
        return Run(
            id=f"run_{uuid.uuid4().hex[:10]}",
            goal=goal or scenario.goal,
            scenario=SCENARIO,
            agent=agent,
            catalog=[str(p) for p in scenario.spec_paths()],
            base_urls=dict(self.services.base_urls),
            grant=mesh.grant(agent),
            budget=budget or mesh.get(agent).budget.to_budget(),
        )


def approve_all(seen: list[tuple[str, str]]) -> Callable[[Run, Any], tuple[bool, str, str]]:
    def decide(holder: Run, approval: Any) -> tuple[bool, str, str]:
        seen.append((holder.id, approval.tool))
        return True, "logistics-manager", "ok"

    return decide
