"""The scripted N-step tool workflow, built the same way for Paddock and for LangGraph.

Both sides get a zero-latency planner (a scripted model) that asks for one tool call per step
and answers after ``steps`` calls, and a zero-latency tool. What remains is each framework's
own work per step: Paddock's think -> guard -> act -> checkpoint loop, LangGraph's prebuilt
tool-calling graph (``create_react_agent``) with a checkpointer.

Both record ``time.perf_counter()`` at every model call, so per-step times can be read at any
step of a run.
"""

from __future__ import annotations

import sqlite3
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.domain import Budget, HttpBinding, Plan, ProposedCall, Run, RunStatus, Tool
from core.execution.base import CallContext, ExecutionResult
from core.guardrails.base import Guard, PassThroughGuard
from core.orchestrator.engine import Orchestrator
from core.planner.base import PlanContext
from core.state.base import RunStore

LOOKUP_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["n"],
    "properties": {"n": {"type": "integer", "minimum": 0}},
}


def lookup_value(n: int) -> dict[str, int]:
    return {"n": n, "value": n * 2}


# -- Paddock ---------------------------------------------------------------------------------


class _Catalog:
    def __init__(self) -> None:
        self.tool = Tool(
            name="lookup",
            description="Look a number up.",
            args_schema=LOOKUP_SCHEMA,
            binding=HttpBinding(
                method="GET",
                path="/lookup",
                base_url="http://127.0.0.1:9",
                operation_id="lookup",
            ),
            responses={"200": {"type": "object", "required": ["n", "value"]}},
        )

    @property
    def tools(self) -> list[Tool]:
        return [self.tool]

    def find(self, name: str) -> Tool | None:
        return self.tool if name == "lookup" else None


class InstantExecutor:
    """A tool with no latency: answers in-process."""

    def execute(self, tool: Tool, args: dict[str, Any], ctx: CallContext) -> ExecutionResult:
        return ExecutionResult(status_code=200, body=lookup_value(int(args["n"])), valid=True)


@dataclass
class StepClock:
    """Time of every model call of one run; time spent measuring (``on_call``, or anything
    added to ``paused``) is left out of the stamps."""

    stamps: list[float] = field(default_factory=list)
    on_call: Callable[[int], None] | None = None
    paused: float = 0.0

    def tick(self) -> int:
        self.stamps.append(time.perf_counter() - self.paused)
        n = len(self.stamps) - 1
        if self.on_call is not None:
            started = time.perf_counter()
            self.on_call(n)
            self.paused += time.perf_counter() - started
        return n


class ScriptedPaddockPlanner:
    label = "scripted (zero latency)"

    def __init__(self, steps: int, clock: StepClock) -> None:
        self.steps = steps
        self.clock = clock

    def plan(self, ctx: PlanContext) -> Plan:
        self.clock.tick()
        n = len(ctx.steps)
        if n < self.steps:
            return Plan(
                reasoning="next",
                confidence=0.9,
                calls=[ProposedCall(id=f"c{n}", tool="lookup", args={"n": n})],
            )
        return Plan(final_answer="done", confidence=0.9)


def paddock_run(
    store: RunStore, steps: int, *, guard: Guard | None = None, clock: StepClock | None = None
) -> StepClock:
    """Run the workflow once in one ``advance`` (as one worker invocation would)."""
    clock = clock or StepClock()
    catalog = _Catalog()
    planner = ScriptedPaddockPlanner(steps, clock)
    orch = Orchestrator(
        store=store,
        catalogs=lambda r: catalog,
        planners=lambda r: planner,
        guard=guard or PassThroughGuard(),
        executor=InstantExecutor(),
    )
    run = orch.create(
        Run(
            id=f"run_{uuid.uuid4().hex[:12]}",
            goal="look up every number",
            budget=Budget(max_steps=steps + 5, max_tool_calls=None),
        )
    )
    done = orch.advance(run.id).run
    if done.status is not RunStatus.SUCCEEDED:
        raise RuntimeError(f"paddock run ended {done.status}: {done.reason}")
    return clock


# -- LangGraph -------------------------------------------------------------------------------


def langgraph_agent(checkpointer: Any, steps: int, clock: StepClock) -> Any:
    """``create_react_agent`` with a scripted chat model and one zero-latency tool."""
    import warnings

    from langchain_core.language_models.chat_models import BaseChatModel
    from langchain_core.messages import AIMessage, ToolMessage
    from langchain_core.outputs import ChatGeneration, ChatResult
    from langchain_core.tools import tool

    @tool
    def lookup(n: int) -> dict[str, int]:
        """Look a number up."""
        return lookup_value(n)

    class ScriptedChat(BaseChatModel):
        @property
        def _llm_type(self) -> str:
            return "scripted"

        def bind_tools(self, tools: Any, **kwargs: Any) -> Any:
            return self

        def _generate(
            self, messages: Any, stop: Any = None, run_manager: Any = None, **kwargs: Any
        ) -> ChatResult:
            clock.tick()
            n = sum(1 for m in messages if isinstance(m, ToolMessage))
            if n < steps:
                message = AIMessage(
                    content="",
                    tool_calls=[
                        {"name": "lookup", "args": {"n": n}, "id": f"c{n}", "type": "tool_call"}
                    ],
                )
            else:
                message = AIMessage(content="done")
            return ChatResult(generations=[ChatGeneration(message=message)])

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # create_react_agent's deprecation notice
        from langgraph.prebuilt import create_react_agent

        return create_react_agent(ScriptedChat(), [lookup], checkpointer=checkpointer)


def langgraph_run(checkpointer: Any, steps: int, *, clock: StepClock | None = None) -> StepClock:
    clock = clock or StepClock()
    agent = langgraph_agent(checkpointer, steps, clock)
    config = {"configurable": {"thread_id": uuid.uuid4().hex}, "recursion_limit": 2 * steps + 10}
    out = agent.invoke({"messages": [("user", "look up every number")]}, config)
    if out["messages"][-1].content != "done":
        raise RuntimeError("langgraph run did not finish")
    return clock


def memory_saver() -> Any:
    from langgraph.checkpoint.memory import InMemorySaver

    return InMemorySaver()


def sqlite_saver(path: Path) -> Any:
    from langgraph.checkpoint.sqlite import SqliteSaver

    return SqliteSaver(sqlite3.connect(str(path), check_same_thread=False))
