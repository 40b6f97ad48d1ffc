"""Paddock's guard around a LangGraph agent's tool calls (extra ``langgraph``).

Every call a ``ToolNode`` is about to run first gets Paddock's decision (``paddock.fence``):

* allowed: the tool runs, and its result is recorded (audit, and provenance for later calls);
* denied: the tool does not run; the model gets a ``ToolMessage`` with Paddock's reason
  (``status="error"``) and can try something else;
* approval required: the node calls LangGraph's ``interrupt`` with the approval (id, tool,
  arguments, reasons). Resume the graph with ``Command(resume={"approve": True, "approver":
  "bob"})``: the decision is recorded in Paddock (bound to the exact call, never by its
  requester) and the call runs, or the model is told it was rejected.

The graph needs a checkpointer (``interrupt`` does). A node re-run on resume asks the fence
about the same ``tool_call_id``: the recorded state answers, nothing is decided twice, and a
call that already ran returns its recorded result instead of running again.

    fence = fence_for(tools, policy_dir="policy", goal="Order parts")
    tools_node = guarded_tool_node(tools, fence)
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool
from langgraph.prebuilt import ToolNode
from langgraph.prebuilt.tool_node import ToolCallRequest
from langgraph.types import Command, interrupt

from core.domain import Tool
from core.errors import ConfigError
from core.guardrails.approvals import ApprovalError
from paddock.fence import Check, Fence, Labels, hosted_tool, labels_of

HOST = "langgraph"
Outcome = ToolMessage | Command[Any]


def hosted_tools(
    tools: Sequence[BaseTool], labels: Mapping[str, Labels] | None = None
) -> list[Tool]:
    """LangChain tools as the guard sees them. Labels come from ``labels`` by tool name, else
    from an ``@paddock.tool`` function the tool wraps, else the cautious default (destructive,
    untrusted)."""
    given = dict(labels or {})
    return [
        hosted_tool(
            t.name,
            t.description,
            t.tool_call_schema.model_json_schema()
            if hasattr(t.tool_call_schema, "model_json_schema")
            else dict(t.args),
            host=HOST,
            labels=labels_of(
                getattr(t, "func", None) or getattr(t, "coroutine", None), given.get(t.name)
            ),
        )
        for t in tools
    ]


def fence_for(
    tools: Sequence[BaseTool],
    *,
    policy_dir: str | Path | None = None,
    labels: Mapping[str, Labels] | None = None,
    **options: Any,
) -> Fence:
    """A fence for one agent session over ``tools`` with Paddock's policy guard (the Cedar
    rules in ``policy_dir``, or the default policy). ``options`` go to :class:`Fence`
    (``store``, ``goal``, ``grant``, ``inputs``, ``requested_by``...)."""
    return Fence.for_policy(
        hosted_tools(tools, labels), policy_dir=policy_dir, host=HOST, **options
    )


class PaddockToolGuard:
    """The ``wrap_tool_call`` / ``awrap_tool_call`` hook of a ``ToolNode``.

    ``ToolNode(tools, wrap_tool_call=guard, awrap_tool_call=guard.awrap)``, or simply
    :func:`guarded_tool_node`.
    """

    def __init__(self, fence: Fence) -> None:
        self.fence = fence

    def __call__(
        self, request: ToolCallRequest, execute: Callable[[ToolCallRequest], Outcome]
    ) -> Outcome:
        check = self._decide(request)
        if not check.allowed:
            return self._not_run(request, check)
        try:
            outcome = execute(request)
        except Exception as exc:
            self.fence.record_result(check.call_id, None, error=f"{type(exc).__name__}: {exc}")
            raise
        self.fence.record_result(check.call_id, _content(outcome))
        return outcome

    async def awrap(
        self,
        request: ToolCallRequest,
        execute: Callable[[ToolCallRequest], Awaitable[Outcome]],
    ) -> Outcome:
        """The async hook. The fence's store may block, so it is asked in a worker thread;
        ``interrupt`` is called on the loop, where LangGraph expects it."""
        check = await asyncio.to_thread(self._ask, request)
        error: str | None = None
        while check.pending:
            answer = _interrupt(check, request, error)
            check, error = await asyncio.to_thread(self._resolve, check, answer)
        if not check.allowed:
            return self._not_run(request, check)
        try:
            outcome = await execute(request)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            await asyncio.to_thread(self.fence.record_result, check.call_id, None, error=error)
            raise
        await asyncio.to_thread(self.fence.record_result, check.call_id, _content(outcome))
        return outcome

    def _ask(self, request: ToolCallRequest) -> Check:
        call = request.tool_call
        return self.fence.check(call["name"], call.get("args") or {}, call_id=_call_id(call))

    def _decide(self, request: ToolCallRequest) -> Check:
        check = self._ask(request)
        error: str | None = None
        while check.pending:
            check, error = self._resolve(check, _interrupt(check, request, error))
        return check

    def _resolve(self, check: Check, answer: Any) -> tuple[Check, str | None]:
        """The call after the human's answer; a refused answer (the requester approving their
        own call, an expired approval) leaves it pending, with the reason to show next."""
        if not isinstance(answer, Mapping) or not isinstance(answer.get("approve"), bool):
            raise ConfigError(
                "resume a Paddock approval with {'approve': true|false, 'approver': NAME}"
            )
        approver = answer.get("approver")
        if not isinstance(approver, str) or not approver:
            raise ConfigError("a Paddock approval needs the approver's name ('approver')")
        assert check.approval_id is not None
        comment = answer.get("comment")
        try:
            decided = self.fence.decide(
                check.approval_id,
                approve=answer["approve"],
                approver=approver,
                comment=comment if isinstance(comment, str) else None,
            )
        except ApprovalError as exc:
            return check, exc.message
        return decided, None

    def _not_run(self, request: ToolCallRequest, check: Check) -> ToolMessage:
        call = request.tool_call
        if check.executed:  # a replay after resume: the recorded result, not a second run
            return ToolMessage(
                content=_text(check.result), tool_call_id=_call_id(call), name=call["name"]
            )
        return ToolMessage(
            content=check.message, tool_call_id=_call_id(call), name=call["name"], status="error"
        )


def guarded_tool_node(tools: Sequence[BaseTool], fence: Fence, **options: Any) -> ToolNode:
    """A ``ToolNode`` over ``tools`` whose every call goes through ``fence`` first."""
    guard = PaddockToolGuard(fence)
    return ToolNode(list(tools), wrap_tool_call=guard, awrap_tool_call=guard.awrap, **options)


def _interrupt(check: Check, request: ToolCallRequest, error: str | None) -> Any:
    """Pause the graph for a human; ``error`` says why the previous answer was refused (each
    answer is a new interrupt, so LangGraph pairs answers and questions in order)."""
    call = request.tool_call
    payload: dict[str, Any] = {
        "paddock": "approval",
        "approval_id": check.approval_id,
        "tool": call["name"],
        "args": call.get("args") or {},
        "reasons": list(check.reasons),
        "rule_ids": list(check.rule_ids),
    }
    if error is not None:
        payload["error"] = error
    return interrupt(payload)


def _call_id(call: Mapping[str, Any]) -> str:
    found = call.get("id")
    if not found:
        raise ConfigError(
            f"tool call {call.get('name')!r} has no id: Paddock binds decisions to it"
        )
    return str(found)


def _content(outcome: Outcome) -> Any:
    if isinstance(outcome, ToolMessage):
        return outcome.content
    return str(outcome.update) if outcome.update is not None else None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)
