"""Paddock's guard around an OpenAI Agents SDK agent's function tools (extra ``agents``).

:func:`guard_tools` returns copies of the agent's ``FunctionTool``s wired to a
``paddock.fence.Fence`` through the SDK's own hooks:

* ``needs_approval``: Paddock decides the call (recorded before anything runs); a call that
  needs approval becomes one of the run's ``interruptions``. Decide it with :func:`decide`,
  which records the decision in Paddock (bound to the exact call, never by its requester) and
  approves or rejects it on the SDK's ``RunState``; then ``Runner.run(agent, state)``.
* a tool input guardrail: a call Paddock denied is rejected with Paddock's reason as the text
  the model sees (``reject_content``), and so is a call approved in the SDK but not in Paddock.
* ``on_invoke_tool``: the tool runs, and its result is recorded (audit, and provenance for
  later calls).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from agents import FunctionTool, RunContextWrapper, ToolApprovalItem
from agents.run_state import RunState
from agents.tool_context import ToolContext
from agents.tool_guardrails import (
    ToolGuardrailFunctionOutput,
    ToolInputGuardrail,
    ToolInputGuardrailData,
)
from pydantic_core import to_jsonable_python

from core.domain import Tool
from core.errors import ConfigError
from paddock.fence import Check, Fence, Labels, hosted_tool

HOST = "openai-agents"


def hosted_tools(
    tools: Sequence[FunctionTool], labels: Mapping[str, Labels] | None = None
) -> list[Tool]:
    """Function tools as the guard sees them; labels by tool name (``paddock.fence.labels_for``
    reads them from ``@paddock.tool`` functions), else destructive and untrusted."""
    given = dict(labels or {})
    out: list[Tool] = []
    for tool in tools:
        found = given.get(tool.name)
        extra = {"labels": found} if found is not None else {}
        out.append(
            hosted_tool(tool.name, tool.description, tool.params_json_schema, host=HOST, **extra)
        )
    return out


def fence_for(
    tools: Sequence[FunctionTool],
    *,
    policy_dir: str | Path | None = None,
    labels: Mapping[str, Labels] | None = None,
    **options: Any,
) -> Fence:
    """A fence for one agent session over ``tools`` with Paddock's policy guard (the Cedar
    rules in ``policy_dir``, or the default policy); ``options`` go to :class:`Fence`."""
    return Fence.for_policy(
        hosted_tools(tools, labels), policy_dir=policy_dir, host=HOST, **options
    )


def guard_tools(tools: Sequence[FunctionTool], fence: Fence) -> list[FunctionTool]:
    """Copies of ``tools`` whose every call goes through ``fence`` (the originals are left as
    they were)."""
    return [_guarded(tool, fence) for tool in tools]


def decide(
    state: RunState[Any, Any],
    item: ToolApprovalItem,
    fence: Fence,
    *,
    approve: bool,
    approver: str,
    comment: str | None = None,
) -> Check:
    """Decide a pending call in Paddock, then on the SDK's run state.

    Raises:
        ApprovalError: Paddock refused the decision (the requester approving their own call,
            an expired or already decided approval); the SDK state is left untouched.
    """
    call_id = item.call_id
    if call_id is None or item.name is None:
        raise ConfigError("this interruption is not a function tool call Paddock decided")
    check = fence.check(item.name, _args(item.arguments), call_id=call_id)
    if check.approval_id is None:
        raise ConfigError(f"Paddock holds no approval for call {call_id}")
    decided = fence.decide(check.approval_id, approve=approve, approver=approver, comment=comment)
    if approve:
        state.approve(item)
    else:
        state.reject(item, rejection_message=decided.message)
    return decided


def _guarded(tool: FunctionTool, fence: Fence) -> FunctionTool:
    original = tool.on_invoke_tool

    async def needs_approval(
        ctx: RunContextWrapper[Any], params: dict[str, Any], call_id: str
    ) -> bool:
        check = await asyncio.to_thread(fence.check, tool.name, params, call_id=call_id)
        return check.pending

    async def paddock_guard(data: ToolInputGuardrailData) -> ToolGuardrailFunctionOutput:
        context = data.context
        args = _args(context.tool_arguments)
        check = await asyncio.to_thread(fence.check, tool.name, args, call_id=context.tool_call_id)
        if check.allowed:
            return ToolGuardrailFunctionOutput.allow(output_info={"paddock": "allow"})
        if check.executed:  # never run a recorded call twice
            return ToolGuardrailFunctionOutput.reject_content(_text(check.result))
        if check.pending:
            return ToolGuardrailFunctionOutput.reject_content(
                f"Paddock: this call of {tool.name} was not approved in Paddock "
                "(decide it with paddock.integrations.agents.decide)"
            )
        return ToolGuardrailFunctionOutput.reject_content(check.message)

    async def invoke(ctx: ToolContext[Any], arguments: str) -> Any:
        try:
            result = await original(ctx, arguments)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            await asyncio.to_thread(fence.record_result, ctx.tool_call_id, None, error=error)
            raise
        recorded = to_jsonable_python(result, fallback=str)
        await asyncio.to_thread(fence.record_result, ctx.tool_call_id, recorded)
        return result

    guardrail: ToolInputGuardrail[Any] = ToolInputGuardrail(
        guardrail_function=paddock_guard, name="paddock"
    )
    return dataclasses.replace(
        tool,
        on_invoke_tool=invoke,
        needs_approval=needs_approval,
        tool_input_guardrails=[*(tool.tool_input_guardrails or []), guardrail],
    )


def _args(raw: str | None) -> dict[str, Any]:
    try:
        parsed = json.loads(raw or "{}")
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)
