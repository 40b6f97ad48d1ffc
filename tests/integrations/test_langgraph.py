"""A LangGraph agent with a scripted model that reads injected text, then tries a destructive
and a laundering call, wrapped by Paddock: forbidden calls never run, benign ones do, and the
approval path pauses the graph (``interrupt``) and resumes it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("langgraph")

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.tools import BaseTool, StructuredTool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.prebuilt import tools_condition
from langgraph.types import Command

from core.domain import Grant, RunStatus
from examples.python_tools import procurement
from examples.python_tools.procurement import INJECTED_IBAN, LEDGER
from paddock.fence import Fence
from paddock.integrations.langgraph import fence_for, guarded_tool_node
from tests.pytools.bundle import BUNDLE

POLICY = BUNDLE / "policy"


@pytest.fixture(autouse=True)
def ledger() -> Iterator[None]:
    LEDGER.reset()
    yield
    LEDGER.reset()


def tools() -> list[BaseTool]:
    """The example's ``@paddock.tool`` functions as LangChain tools: their labels carry over."""
    sync = [
        procurement.read_inbox,
        procurement.delete_supplier,
        procurement.create_purchase_order,
    ]
    made = [StructuredTool.from_function(f) for f in sync]
    made.append(StructuredTool.from_function(coroutine=procurement.pay_invoice))
    return made


def said(name: str, call_id: str, **args: Any) -> AIMessage:
    return AIMessage(content="", tool_calls=[{"name": name, "args": args, "id": call_id}])


def injected_model() -> GenericFakeChatModel:
    return GenericFakeChatModel(
        messages=iter(
            [
                said("read_inbox", "c1", supplier="S-100"),
                said("delete_supplier", "c2", supplier="S-200"),
                said("pay_invoice", "c3", invoice="INV-77", amount_eur=9800.0, iban=INJECTED_IBAN),
                said(
                    "create_purchase_order",
                    "c4",
                    supplier="S-100",
                    part="P-1",
                    quantity=250,
                    unit_price_eur=2.1,
                ),
                AIMessage(content="Ordered 250 units of P-1."),
            ]
        )
    )


def agent_graph(model: GenericFakeChatModel, fence: Fence) -> CompiledStateGraph[Any]:
    toolset = tools()

    def agent(state: MessagesState) -> dict[str, Any]:
        return {"messages": [model.invoke(state["messages"])]}

    graph = StateGraph(MessagesState)
    graph.add_node("agent", agent)
    graph.add_node("tools", guarded_tool_node(toolset, fence))
    graph.add_edge(START, "agent")
    graph.add_conditional_edges("agent", tools_condition)
    graph.add_edge("tools", "agent")
    return graph.compile(checkpointer=InMemorySaver())


def fence() -> Fence:
    return fence_for(
        tools(),
        policy_dir=POLICY,
        goal="Order 250 units of part P-1 from supplier S-100",
        grant=Grant(side_effects=["read", "write"]),
        requested_by="alice",
    )


def test_a_langgraph_agent_inside_the_fences() -> None:
    guard = fence()
    graph = agent_graph(injected_model(), guard)
    config: dict[str, Any] = {"configurable": {"thread_id": "t1"}}

    async def play() -> dict[str, Any]:
        first = await graph.ainvoke({"messages": [("user", "Order 250 of P-1")]}, config)
        (paused,) = first["__interrupt__"]
        assert paused.value["tool"] == "pay_invoice"
        assert "provenance" in paused.value["rule_ids"]
        second = await graph.ainvoke(
            Command(resume={"approve": False, "approver": "bob", "comment": "injected"}), config
        )
        (paused,) = second["__interrupt__"]
        assert paused.value["tool"] == "create_purchase_order"
        assert "large_purchase_order" in paused.value["rule_ids"]
        assert LEDGER.orders == {}
        return await graph.ainvoke(Command(resume={"approve": True, "approver": "bob"}), config)

    final = asyncio.run(play())
    assert final["messages"][-1].content == "Ordered 250 units of P-1."
    replies = {m.tool_call_id: m for m in final["messages"] if isinstance(m, ToolMessage)}
    assert replies["c2"].status == "error" and "destructive" in str(replies["c2"].content)
    assert "rejected" in str(replies["c3"].content)
    assert LEDGER.deleted == [] and LEDGER.payments == [] and len(LEDGER.orders) == 1

    run = guard.run  # the audit: every call with its decision, approval and result
    calls = {c.call_id: c for s in run.steps for c in s.calls}
    assert calls["c1"].executed and calls["c1"].untrusted
    assert calls["c2"].decision is not None and calls["c2"].decision.rule_ids == ["entitlement"]
    assert calls["c3"].status == "rejected" and not calls["c3"].executed
    assert calls["c4"].executed and "PO-0001" in str(calls["c4"].result)
    assert [a.decided_by for a in run.approvals] == ["bob", "bob"]
    assert guard.finish("done").status is RunStatus.SUCCEEDED


def test_the_requester_cannot_approve_their_own_call_and_sync_graphs_work() -> None:
    guard = fence()
    model = GenericFakeChatModel(
        messages=iter(
            [
                said(
                    "create_purchase_order",
                    "c1",
                    supplier="S-100",
                    part="P-1",
                    quantity=500,
                    unit_price_eur=2.1,
                ),
                AIMessage(content="ok"),
            ]
        )
    )
    graph = agent_graph(model, guard)
    config: dict[str, Any] = {"configurable": {"thread_id": "t2"}}
    first = graph.invoke({"messages": [("user", "Order 500")]}, config)
    assert first["__interrupt__"]
    again = graph.invoke(Command(resume={"approve": True, "approver": "alice"}), config)
    (paused,) = again["__interrupt__"]  # asked again, with the reason
    assert "may not approve its own" in paused.value["error"]
    assert LEDGER.orders == {}
    final = graph.invoke(Command(resume={"approve": True, "approver": "bob"}), config)
    assert final["messages"][-1].content == "ok" and len(LEDGER.orders) == 1
