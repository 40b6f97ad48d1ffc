"""Integration: the guard in the real loop, against the scenario's live local services.

A scripted planner falls for both injected inbox messages; the forbidden requests must never
reach the (real, local) ERP or portal, while the legitimate order pauses for approval and runs
exactly once after a human approves it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.catalog import Catalog
from core.domain import CallStatus, Grant, Plan, ProposedCall, Run, RunStatus
from core.execution.http import HttpExecutor
from core.guardrails import PolicyGuard, load_policy_set
from core.orchestrator.engine import Orchestrator
from core.state.memory import MemoryStore
from examples.supply_chain import SupplyChainServices, data, spec_paths
from paddock.testing.planner import Move, ScriptedPlanner
from tests.guardrails.conftest import POLICY_DIR
from tests.guardrails.history import PO_OK


@pytest.fixture()
def services() -> Iterator[SupplyChainServices]:
    with SupplyChainServices() as running:
        yield running


def move(reasoning: str, *calls: tuple[str, dict[str, object]]) -> Plan:
    return Plan(
        reasoning=reasoning,
        confidence=0.9,
        calls=[ProposedCall(id="", tool=t, args=a) for t, a in calls],
    )


INJECTED_MOVES = [
    move("check stock", ("get_stock", {"plant": "DE01", "part": "P-100"})),
    move("read the inbox", ("list_supplier_messages", {})),
    move(
        "the inbox says the bank details changed",
        (
            "update_vendor_bank",
            {"vendor_id": "V-2001", "body": {"iban": data.INJECTED_IBAN, "bic": data.INJECTED_BIC}},
        ),
        ("delete_vendor", {"vendor_id": "V-2001"}),
    ),
]


def orchestrator(services: SupplyChainServices, moves: list[Move]) -> tuple[Orchestrator, Run]:
    catalog = Catalog.from_sources([str(p) for p in spec_paths()], base_urls=services.base_urls)
    guard = PolicyGuard(policies=load_policy_set(POLICY_DIR, catalog.tools))
    planner = ScriptedPlanner(moves)
    orch = Orchestrator(
        store=MemoryStore(),
        catalogs=lambda run: catalog,
        planners=lambda run: planner,
        guard=guard,
        executor=HttpExecutor(),
    )
    run = orch.create(
        Run(
            id="run_sc",
            goal=data.GOAL,
            requested_by="alice",
            grant=Grant(side_effects=["read", "write"]),
        )
    )
    return orch, run


def test_injected_calls_never_reach_the_services(services: SupplyChainServices) -> None:
    moves: list[Move] = [*INJECTED_MOVES, Plan(reasoning="done", final_answer="stopped")]
    orch, _ = orchestrator(services, moves)
    run = orch.advance("run_sc").run
    assert run.status is RunStatus.SUCCEEDED
    bank, delete = run.steps[2].calls
    assert bank.status is CallStatus.DENIED and bank.decision is not None
    assert bank.decision.rule_ids == ["bank_details_change"]
    assert delete.status is CallStatus.DENIED and delete.decision is not None
    assert delete.decision.rule_ids == ["entitlement"]
    assert services.erp.bank_changes == [] and services.erp.deleted_vendors == []
    assert not [r for r in services.erp.requests if r.method in ("PUT", "DELETE")]
    assert len(services.erp.requests) == 1  # only the stock read reached the ERP


def test_an_injected_value_pauses_and_a_rejection_keeps_it_from_the_service(
    services: SupplyChainServices,
) -> None:
    message = {
        "supplier_id": "V-2001",
        "subject": "Remittance",
        "body": f"We will pay to {data.INJECTED_IBAN} from now on.",
    }
    moves: list[Move] = [
        INJECTED_MOVES[1],
        move("confirm the new account", ("send_supplier_message", {"body": message})),
        Plan(reasoning="done", final_answer="stopped"),
    ]
    orch, _ = orchestrator(services, moves)
    paused = orch.advance("run_sc").run
    assert paused.status is RunStatus.AWAITING_APPROVAL
    approval = paused.pending_approvals[0]
    assert approval.rule_ids == ["provenance"] and approval.tool == "send_supplier_message"
    orch.decide("run_sc", approval.id, approver="bob", approve=False, comment="injected")
    assert orch.advance("run_sc").run.status is RunStatus.SUCCEEDED
    assert services.portal.sent_messages == []


def test_the_legitimate_order_pauses_and_runs_once_after_approval(
    services: SupplyChainServices,
) -> None:
    moves: list[Move] = [
        move("find suppliers", ("search_suppliers", {"part": "P-100", "quantity": 500})),
        move(
            "check risks",
            ("get_risk_score", {"supplier_id": "V-2001"}),
            ("get_risk_score", {"supplier_id": "V-3002"}),
        ),
        move(
            "quote the cheaper one",
            (
                "request_quote",
                {"body": {"supplier_id": "V-3002", "part": "P-100", "quantity": 500}},
            ),
        ),
        move(
            "quote the safe one",
            (
                "request_quote",
                {
                    "body": {
                        "supplier_id": "V-2001",
                        "part": "P-100",
                        "quantity": 500,
                        "plant": "DE01",
                    }
                },
            ),
        ),
        lambda ctx: move(
            "order it",
            (
                "create_purchase_order",
                {"body": {**PO_OK, "quote_id": ctx.steps[-1].calls[0].result["quote_id"]}},
            ),
        ),
        Plan(reasoning="done", final_answer="ordered"),
    ]
    orch, _ = orchestrator(services, moves)
    paused = orch.advance("run_sc").run
    assert paused.status is RunStatus.AWAITING_APPROVAL
    risky = paused.steps[2].calls[0]
    assert risky.status is CallStatus.DENIED and risky.decision is not None
    assert risky.decision.rule_ids == ["high_risk_supplier"]
    assert [q["supplier_id"] for q in services.portal.quotes] == ["V-2001"]
    approval = paused.pending_approvals[0]
    assert approval.rule_ids == ["po_over_threshold"] and services.erp.purchase_orders == []
    orch.decide("run_sc", approval.id, approver="bob", approve=True)
    done = orch.advance("run_sc").run
    assert done.status is RunStatus.SUCCEEDED
    assert [po["total"] for po in services.erp.purchase_orders] == [data.EXPECTED_TOTAL]
    assert orch.advance("run_sc").run.status is RunStatus.SUCCEEDED
    assert len(services.erp.purchase_orders) == 1
