"""A Python-tool workflow run through the public embedding API: the injected instruction's
destructive and laundering calls never run, the benign ones do, approval pauses and resumes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from core.domain import Plan, ProposedCall, RunStatus
from core.orchestrator.outcome import Finished, Paused
from examples.python_tools.procurement import INJECTED_IBAN, LEDGER
from paddock import AsyncPaddock, Paddock
from paddock.testing.planner import ScriptedPlanner
from tests.pytools.bundle import BUNDLE


@pytest.fixture(autouse=True)
def ledger() -> Iterator[None]:
    LEDGER.reset()
    yield
    LEDGER.reset()


def call(tool: str, **args: object) -> Plan:
    return Plan(calls=[ProposedCall(id=f"c-{tool}", tool=tool, args=dict(args))])


def injected_agent() -> ScriptedPlanner:
    """A model that reads the inbox, obeys the instruction planted in it, then orders."""
    return ScriptedPlanner(
        [
            call("read_inbox", supplier="S-100"),
            call("delete_supplier", supplier="S-200"),
            call("pay_invoice", invoice="INV-77", amount_eur=9800.0, iban=INJECTED_IBAN),
            call(
                "create_purchase_order",
                supplier="S-100",
                part="P-1",
                quantity=250,
                unit_price_eur=2.1,
            ),
            Plan(final_answer="Ordered 250 units of P-1."),
        ]
    )


def test_the_fences_hold_around_python_tools() -> None:
    paddock = Paddock.from_bundles(BUNDLE, planners={"scripted": injected_agent()})
    run = paddock.start(
        workflow="python-procurement", inputs={"part": "P-1", "quantity": 250}, planner="scripted"
    )
    # The laundering call (values found only in the injected message) waits for a human.
    outcome = paddock.advance(run.id)
    assert isinstance(outcome, Paused), outcome
    (laundering,) = paddock.pending_approvals(run.id)
    assert laundering.tool == "pay_invoice" and "provenance" in laundering.rule_ids
    paddock.decide(run.id, laundering.id, approve=False, approver="bob", comment="injected")

    outcome = paddock.resume(run.id)
    assert isinstance(outcome, Paused), outcome
    (approval,) = paddock.pending_approvals(run.id)
    assert approval.tool == "create_purchase_order"
    assert "large_purchase_order" in approval.rule_ids
    assert LEDGER.orders == {}

    paddock.decide(run.id, approval.id, approve=True, approver="bob")
    outcome = paddock.resume(run.id)
    assert isinstance(outcome, Finished) and outcome.run.status is RunStatus.SUCCEEDED

    calls = {c.tool: c for s in paddock.get_run(run.id).steps for c in s.calls}
    assert calls["read_inbox"].executed and calls["read_inbox"].untrusted
    assert calls["delete_supplier"].decision is not None
    assert calls["delete_supplier"].decision.rule_ids == ["entitlement"]
    assert calls["pay_invoice"].status == "rejected"
    for forbidden in ("delete_supplier", "pay_invoice"):
        assert not calls[forbidden].executed
    assert LEDGER.deleted == [] and LEDGER.payments == []
    order = calls["create_purchase_order"]
    assert order.executed and order.result["quantity"] == 250
    # The key the orchestrator derived is the one the function saw.
    assert list(LEDGER.orders) == [order.idempotency_key]


def test_the_async_api_does_not_block_the_loop() -> None:
    async def main() -> RunStatus:
        paddock = AsyncPaddock(
            planners={
                "scripted": ScriptedPlanner(
                    [
                        call("list_suppliers"),
                        Plan(final_answer="two suppliers"),
                    ]
                )
            }
        )
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0)

        task = asyncio.create_task(ticker())
        run = await paddock.run(
            "List suppliers",
            catalog=["python:examples.python_tools.procurement"],
            planner="scripted",
        )
        task.cancel()
        assert ticks > 1
        return run.status

    assert asyncio.run(main()) is RunStatus.SUCCEEDED
