"""An OpenAI Agents SDK agent with a scripted model that reads injected text, then tries a
destructive and a laundering call, wrapped by Paddock: forbidden calls never run, benign ones
do, and the approval path pauses the run (interruptions) and resumes it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("agents")

from agents import Agent, FunctionTool, RunConfig, Runner, function_tool
from agents.testing import ScriptedModel, assistant_message, function_call

from core.domain import Grant
from core.guardrails.approvals import ApprovalError
from examples.python_tools import procurement
from examples.python_tools.procurement import INJECTED_IBAN, LEDGER
from paddock.fence import Fence, labels_for
from paddock.integrations.agents import decide, fence_for, guard_tools
from tests.pytools.bundle import BUNDLE

FUNCTIONS = (
    procurement.read_inbox,
    procurement.delete_supplier,
    procurement.pay_invoice,
    procurement.create_purchase_order,
)
NO_TRACES = RunConfig(tracing_disabled=True)


@pytest.fixture(autouse=True)
def ledger() -> Iterator[None]:
    LEDGER.reset()
    yield
    LEDGER.reset()


def order(quantity: int) -> dict[str, Any]:
    return {
        "supplier": "S-100",
        "part": "P-1",
        "quantity": quantity,
        "unit_price_eur": 2.1,
        "idempotency_key": None,
    }


def setup() -> tuple[Agent[Any], Fence, ScriptedModel]:
    tools: list[FunctionTool] = [function_tool(f) for f in FUNCTIONS]
    fence = fence_for(
        tools,
        policy_dir=BUNDLE / "policy",
        labels=labels_for(*FUNCTIONS),
        goal="Order 250 units of part P-1 from supplier S-100",
        grant=Grant(side_effects=["read", "write"]),
        requested_by="alice",
    )
    model = ScriptedModel(
        [
            [function_call("read_inbox", {"supplier": "S-100"}, call_id="c1")],
            [function_call("delete_supplier", {"supplier": "S-200"}, call_id="c2")],
            [
                function_call(
                    "pay_invoice",
                    {"invoice": "INV-77", "amount_eur": 9800.0, "iban": INJECTED_IBAN},
                    call_id="c3",
                )
            ],
            [function_call("create_purchase_order", order(250), call_id="c4")],
            [assistant_message("Ordered 250 units of P-1.")],
        ]
    )
    agent: Agent[Any] = Agent(name="buyer", model=model, tools=list(guard_tools(tools, fence)))
    return agent, fence, model


def test_an_agents_sdk_agent_inside_the_fences() -> None:
    agent, fence, _ = setup()

    async def play() -> Any:
        result = await Runner.run(agent, "Order 250 of P-1", run_config=NO_TRACES)
        (laundering,) = result.interruptions
        assert laundering.name == "pay_invoice"
        state = result.to_state()
        decide(state, laundering, fence, approve=False, approver="bob", comment="injected")

        result = await Runner.run(agent, state, run_config=NO_TRACES)
        (large,) = result.interruptions
        assert large.name == "create_purchase_order"
        assert LEDGER.orders == {}
        state = result.to_state()
        with pytest.raises(ApprovalError, match="may not approve its own"):
            decide(state, large, fence, approve=True, approver="alice")
        decide(state, large, fence, approve=True, approver="bob")
        return await Runner.run(agent, state, run_config=NO_TRACES)

    final = asyncio.run(play())
    assert final.final_output == "Ordered 250 units of P-1."
    assert LEDGER.deleted == [] and LEDGER.payments == [] and len(LEDGER.orders) == 1

    calls = {c.call_id: c for s in fence.run.steps for c in s.calls}
    assert calls["c1"].executed and calls["c1"].untrusted
    assert calls["c2"].decision is not None and calls["c2"].decision.rule_ids == ["entitlement"]
    assert not calls["c2"].executed
    assert calls["c3"].decision is not None and "provenance" in calls["c3"].decision.rule_ids
    assert calls["c3"].status == "rejected" and not calls["c3"].executed
    assert calls["c4"].executed and calls["c4"].result["order_id"] == "PO-0001"


def test_the_model_sees_paddocks_reason_for_a_denied_call() -> None:
    agent, _fence, model = setup()
    asyncio.run(Runner.run(agent, "Order 250 of P-1", run_config=NO_TRACES))
    shown = str(model.calls[2].input)  # what the model saw after the destructive call
    assert "Paddock refused this call of delete_supplier" in shown
    assert "destructive" in shown


def test_an_sdk_approval_that_paddock_did_not_record_does_not_run() -> None:
    agent, fence, model = setup()

    async def play() -> Any:
        result = await Runner.run(agent, "Order 250 of P-1", run_config=NO_TRACES)
        (laundering,) = result.interruptions
        state = result.to_state()
        state.approve(laundering)  # approved in the SDK only: bypassing Paddock's approvals
        return await Runner.run(agent, state, run_config=NO_TRACES)

    result = asyncio.run(play())
    assert [i.name for i in result.interruptions] == ["create_purchase_order"]
    assert LEDGER.payments == []
    assert "was not approved in Paddock" in str(model.calls[3].input)
    calls = {c.call_id: c for s in fence.run.steps for c in s.calls}
    assert calls["c3"].status == "awaiting_approval" and not calls["c3"].executed
