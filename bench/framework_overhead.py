"""The per-call cost of Paddock's guard inside LangGraph and the OpenAI Agents SDK (issue 23).

Each framework runs the same agent twice: a scripted model that makes ``--steps`` tool calls
(one per turn, alternating a trusted lookup and an untrusted inbox read, then a write whose
arguments come from the goal) and then answers; once with the framework's plain tools, once
with Paddock's guard (``paddock.integrations``) over an in-memory run store. A step is one
model turn plus one tool call. Reported per framework: the median time per step without and
with the guard, the difference (the guard's cost per call: decision, provenance, the checkpoint
of the call and of its result), and that cost as a ratio to the framework's own time per step.

The scripted models answer instantly, so the ratio is an upper bound: with a real model (hundreds
of milliseconds a turn) the guard's share is far smaller.

Usage: .venv/bin/python bench/framework_overhead.py [--steps 20] [--runs 15] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import paddock
from core.domain import Grant
from paddock.fence import Fence, labels_for

GOAL = "Check stock of SKU-1 and order 5 units of SKU-1"


@paddock.tool
def lookup(sku: str) -> dict[str, Any]:
    """Stock of a SKU."""
    return {"sku": sku, "stock": 12}


@paddock.tool(trust="untrusted")
def inbox(sku: str) -> list[str]:
    """Supplier messages about a SKU."""
    return [f"{sku} ships in 3 days", "please reply to ops@example.test"]


@paddock.tool(side_effect="write")
def reserve(sku: str, quantity: int) -> dict[str, Any]:
    """Reserve units of a SKU."""
    return {"sku": sku, "reserved": quantity}


FUNCTIONS = (lookup, inbox, reserve)


def script(steps: int) -> list[tuple[str, dict[str, Any]]]:
    calls: list[tuple[str, dict[str, Any]]] = []
    for i in range(steps - 1):
        calls.append(("lookup" if i % 2 == 0 else "inbox", {"sku": "SKU-1"}))
    calls.append(("reserve", {"sku": "SKU-1", "quantity": 5}))
    return calls


def _fence(tools: Any, fence_for: Callable[..., Fence]) -> Fence:
    return fence_for(tools, goal=GOAL, grant=Grant(side_effects=["read", "write"]), **_labels())


def _labels() -> dict[str, Any]:
    return {"labels": labels_for(*FUNCTIONS)}


# -- LangGraph ---------------------------------------------------------------------------


def langgraph_run(steps: int, guarded: bool) -> float:
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage
    from langchain_core.tools import StructuredTool
    from langgraph.checkpoint.memory import InMemorySaver
    from langgraph.graph import START, MessagesState, StateGraph
    from langgraph.prebuilt import ToolNode, tools_condition

    from paddock.integrations.langgraph import fence_for, guarded_tool_node

    tools = [StructuredTool.from_function(f) for f in FUNCTIONS]
    replies: list[AIMessage] = [
        AIMessage(content="", tool_calls=[{"name": name, "args": args, "id": f"c{i}"}])
        for i, (name, args) in enumerate(script(steps))
    ]
    model = GenericFakeChatModel(messages=iter([*replies, AIMessage(content="done")]))

    def agent(state: MessagesState) -> dict[str, Any]:
        return {"messages": [model.invoke(state["messages"])]}

    node = guarded_tool_node(tools, _fence(tools, fence_for)) if guarded else ToolNode(tools)
    graph = StateGraph(MessagesState)
    graph.add_node("agent", agent)
    graph.add_node("tools", node)
    graph.add_edge(START, "agent")
    graph.add_conditional_edges("agent", tools_condition)
    graph.add_edge("tools", "agent")
    app = graph.compile(checkpointer=InMemorySaver())
    started = time.perf_counter()
    app.invoke(
        {"messages": [("user", GOAL)]},
        {"configurable": {"thread_id": "bench"}, "recursion_limit": 4 * steps + 10},
    )
    return (time.perf_counter() - started) / steps


# -- OpenAI Agents SDK -------------------------------------------------------------------


def agents_run(steps: int, guarded: bool) -> float:
    from agents import Agent, RunConfig, Runner, function_tool
    from agents.testing import ScriptedModel, assistant_message, function_call

    from paddock.integrations.agents import fence_for, guard_tools

    tools = [function_tool(f) for f in FUNCTIONS]
    model = ScriptedModel(
        [
            *[
                [function_call(name, args, call_id=f"c{i}")]
                for i, (name, args) in enumerate(script(steps))
            ],
            [assistant_message("done")],
        ]
    )
    used = guard_tools(tools, _fence(tools, fence_for)) if guarded else tools
    agent: Agent[Any] = Agent(name="bench", model=model, tools=list(used))
    config = RunConfig(tracing_disabled=True)
    started = time.perf_counter()
    asyncio.run(Runner.run(agent, GOAL, max_turns=steps + 5, run_config=config))
    return (time.perf_counter() - started) / steps


FRAMEWORKS: dict[str, Callable[[int, bool], float]] = {
    "langgraph": langgraph_run,
    "openai-agents": agents_run,
}


def measure(name: str, steps: int, runs: int) -> dict[str, Any]:
    run = FRAMEWORKS[name]
    run(steps, False), run(steps, True)  # warm imports and caches
    plain: list[float] = []
    guarded: list[float] = []
    for _ in range(runs):  # interleaved, so drift in machine load hits both alike
        plain.append(run(steps, False))
        guarded.append(run(steps, True))
    base, fenced = statistics.median(plain), statistics.median(guarded)
    return {
        "framework": name,
        "steps": steps,
        "runs": runs,
        "plain_ms_per_step": round(base * 1000, 3),
        "guarded_ms_per_step": round(fenced * 1000, 3),
        "guard_ms_per_call": round((fenced - base) * 1000, 3),
        "ratio": round((fenced - base) / base, 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = [measure(name, args.steps, args.runs) for name in FRAMEWORKS]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(
        f"{'framework':<15}{'plain ms/step':>15}{'guarded ms/step':>17}{'guard ms/call':>15}"
        f"{'ratio':>8}"
    )
    for r in rows:
        print(
            f"{r['framework']:<15}{r['plain_ms_per_step']:>15.3f}{r['guarded_ms_per_step']:>17.3f}"
            f"{r['guard_ms_per_call']:>15.3f}{r['ratio']:>8.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
