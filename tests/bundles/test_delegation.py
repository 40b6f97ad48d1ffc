"""A bundle that is an agent mesh: its Cedar rules govern the delegation calls (``ask_*``) and
every call of the child runs, not the default guard."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.bundles import load_bundle
from core.bundles.start import start_workflow_run
from core.domain import CallStatus, Plan, ProposedCall, Run, RunStatus
from core.orchestrator.children import ChildRuns
from core.planner.base import PlanContext
from core.runtime import build_orchestrator, default_executor
from core.settings import Settings
from core.state.memory import MemoryStore
from core.workflows import WorkflowSet
from paddock.local.mesh import LocalMesh, memory_queues
from tests.bundles.procurement import BUNDLE, TITLE, ProcurementService, procurement_service

PLANNER = """name: planning
title: Planning
domain: Decides what to buy and asks the buyer to order it.
home_cloud: azure
tools: [list_suppliers]
delegates: [buyer]
side_effects: [read, write]
"""
BUYER = """name: buyer
title: Buyer
domain: Places purchase orders with approved suppliers.
home_cloud: azure
tools: [create_purchase_order]
side_effects: [read, write]
"""
RULES = """
@id("no_rush_delegations")
@reason("the buyer is not asked to rush: rush orders go through purchasing")
forbid (principal, action == Action::"ask_buyer", resource)
when { context.args.goal like "*rush*" };
"""


@pytest.fixture()
def mesh_bundle(tmp_path: Path) -> Path:
    root = tmp_path / "procurement-mesh"
    shutil.copytree(BUNDLE, root)
    (root / "agents").mkdir()
    (root / "agents" / "planning.yaml").write_text(PLANNER)
    (root / "agents" / "buyer.yaml").write_text(BUYER)
    manifest = root / "paddock.yaml"
    manifest.write_text(
        manifest.read_text().replace("grant:\n", "agent: planning\ngrant:\n  max_children: 2\n")
    )
    policy = root / "policy" / "orders.cedar"
    policy.write_text(policy.read_text() + RULES)
    return root


class Agents:
    """One scripted move per agent: the planner delegates ``ask`` once, the buyer orders."""

    label = "scripted agents"

    def __init__(self, ask: str, total: int) -> None:
        self.ask, self.total = ask, total

    def plan(self, ctx: PlanContext) -> Plan:
        if any(s.calls for s in ctx.steps):
            return Plan(final_answer="done")
        if any(t.name == "ask_buyer" for t in ctx.tools):  # the planning agent
            call = ProposedCall(id="ask-1", tool="ask_buyer", args={"goal": self.ask})
        else:
            order = {"supplier_id": "S-100", "part": "P-1", "quantity": 1, "total_eur": self.total}
            call = ProposedCall(id="po-1", tool="create_purchase_order", args={"body": order})
        return Plan(calls=[call])


@pytest.fixture()
def service() -> Iterator[tuple[ProcurementService, str]]:
    with procurement_service() as found:
        yield found


def _run(bundle: Path, url: str, agents: Agents) -> tuple[LocalMesh, Run]:
    workflow = load_bundle(bundle)
    store = MemoryStore()
    queues = memory_queues()
    orchestrator = build_orchestrator(
        store=store,
        workflows=WorkflowSet([workflow]),
        planners=lambda run: agents,
        executor=default_executor(None),
        children=ChildRuns(store, queues, cloud="local"),
        settings=Settings(),
    )
    run = Run(id="run_mesh01", goal="", base_urls={TITLE: url}, planner="scripted")
    start_workflow_run(run, workflow, inputs={"part": "P-1", "quantity": 1})
    local = LocalMesh({"local": orchestrator}, queues)
    root = local.start(run)
    return local, local.run_until_settled(root.id)


def _calls(store: Any, tool: str) -> list[Any]:
    found = []
    for run in store.list_runs(limit=50).runs:
        full = store.get_run(run.id)
        found += [c for s in full.steps for c in s.calls if c.tool == tool]
    return found


def test_the_child_agents_call_is_held_by_the_bundles_rule(
    mesh_bundle: Path, service: tuple[ProcurementService, str]
) -> None:
    procurement, url = service
    local, _root = _run(mesh_bundle, url, Agents("order 1 unit of P-1", total=12_500))
    (order,) = _calls(local.root.store, "create_purchase_order")
    assert order.decision is not None and "large_purchase_order" in order.decision.rule_ids
    assert order.status is CallStatus.AWAITING_APPROVAL
    assert procurement.orders() == []


def test_a_small_order_through_the_child_executes(
    mesh_bundle: Path, service: tuple[ProcurementService, str]
) -> None:
    procurement, url = service
    _local, root = _run(mesh_bundle, url, Agents("order 1 unit of P-1", total=250))
    assert root.status is RunStatus.SUCCEEDED, (root.status, root.error)
    assert [o["total_eur"] for o in procurement.orders()] == [250]


def test_the_delegation_itself_is_judged_by_the_bundles_rule(
    mesh_bundle: Path, service: tuple[ProcurementService, str]
) -> None:
    procurement, url = service
    local, _root = _run(mesh_bundle, url, Agents("rush order 1 unit of P-1", total=250))
    (ask,) = _calls(local.root.store, "ask_buyer")
    assert ask.decision is not None and ask.decision.rule_ids == ["no_rush_delegations"]
    assert ask.status is CallStatus.DENIED
    assert procurement.orders() == []
