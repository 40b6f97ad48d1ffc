"""The catalog as a Model Context Protocol server: every call goes through Paddock's loop.

An MCP ``tools/call`` becomes a one-call run: the guard decides (allow, deny or hold for
approval) exactly as for an agent's call, the HTTP executor sends it, drift is checked, the
store checkpoints it and the tracer records it. A held call answers with the run and approval
ids; ``paddock approve`` releases it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import anyio
import mcp_types as types
from mcp.server import Server, ServerRequestContext

from core.catalog.catalog import Catalog
from core.catalog.export import short_description
from core.domain import CallRecord, CallStatus, ProposedCall, Run, RunStatus, SideEffect, Tool
from core.orchestrator.engine import Orchestrator
from core.orchestrator.outcome import run_unless_throttled
from paddock.mcp.direct import DirectCalls

SERVER_NAME = "paddock"


def mcp_tool(tool: Tool) -> types.Tool:
    """A catalog tool as MCP lists it (the same argument schema the planner gets)."""
    read = tool.side_effect is SideEffect.READ
    return types.Tool(
        name=tool.name,
        description=short_description(tool.description or tool.name),
        input_schema=tool.args_schema,
        annotations=types.ToolAnnotations(
            title=tool.binding.label,
            read_only_hint=read,
            destructive_hint=tool.side_effect is SideEffect.DESTRUCTIVE,
            open_world_hint=True,
        ),
    )


class PaddockMcp:
    """Serves ``catalog`` over MCP, calling through ``orchestrator``.

    Args:
        catalog: the tools listed (and the only ones callable).
        orchestrator: built with ``planners=`` the same ``DirectCalls`` as ``planner``.
        planner: the ``DirectCalls`` the orchestrator asks.
        new_run: makes the run for one call (catalog sources, tenant, grant...).
    """

    def __init__(
        self,
        catalog: Catalog,
        orchestrator: Orchestrator,
        planner: DirectCalls,
        new_run: Callable[[str, dict[str, Any]], Run],
    ) -> None:
        self.catalog = catalog
        self.orchestrator = orchestrator
        self.planner = planner
        self.new_run = new_run

    def server(self) -> Server[Any]:
        return Server(
            SERVER_NAME,
            version="1",
            title="Paddock catalog",
            instructions="API operations fenced by Paddock's guardrails. Writes may "
            "be held for human approval; the answer says so.",
            on_list_tools=self._list_tools,
            on_call_tool=self._call_tool,
        )

    async def _list_tools(
        self, ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=[mcp_tool(t) for t in self.catalog.tools])

    async def _call_tool(
        self, ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        outcome = await anyio.to_thread.run_sync(
            self.call, params.name, dict(params.arguments or {})
        )
        return result(outcome)

    def call(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """Run one call through the loop; a JSON outcome (``status`` says what happened)."""
        if self.catalog.find(name) is None:
            return {"status": "error", "error": f"no tool named {name!r} in the catalog"}
        run = self.new_run(name, arguments)
        self.planner.expect(run.id, ProposedCall(id="mcp-1", tool=name, args=arguments))
        self.orchestrator.create(run)
        run = run_unless_throttled(self.orchestrator.advance(run.id))
        return outcome_of(run)


def outcome_of(run: Run) -> dict[str, Any]:
    call: CallRecord | None = run.steps[0].calls[0] if run.steps and run.steps[0].calls else None
    out: dict[str, Any] = {"run_id": run.id, "run_status": run.status.value}
    if call is None:
        return {**out, "status": "error", "error": run.error or "the call was not made"}
    decision = call.decision
    out.update(
        decision=decision.verdict.value if decision else None,
        rule_ids=decision.rule_ids if decision else [],
        reasons=decision.reasons if decision else [],
    )
    if run.status is RunStatus.AWAITING_APPROVAL:
        approval = run.pending_approvals[0]
        return {
            **out,
            "status": "awaiting_approval",
            "approval_id": approval.id,
            "reasons": approval.reasons,
            "rule_ids": approval.rule_ids,
            "drift": call.drift,
            "approve": f"paddock approve {run.id} {approval.id}",
        }
    if call.status is CallStatus.DENIED:
        return {**out, "status": "denied"}
    if call.status is CallStatus.DONE:
        return {
            **out,
            "status": "done",
            "status_code": call.status_code,
            "result": call.result,
            "drift": call.drift,
        }
    return {
        **out,
        "status": "error",
        "status_code": call.status_code,
        "error": call.error or run.error,
        "result": call.result,
        "drift": call.drift,
    }


def result(outcome: dict[str, Any]) -> types.CallToolResult:
    status = outcome["status"]
    if status == "done":
        text = json.dumps(outcome.get("result"), ensure_ascii=False, default=str)
    elif status == "awaiting_approval":
        text = (
            f"Held for human approval ({'; '.join(outcome['reasons'])}). "
            f"Nothing was sent. Approve with: {outcome['approve']}"
        )
    elif status == "denied":
        text = "DENIED by Paddock's guardrails: " + "; ".join(outcome["reasons"])
    else:
        text = f"ERROR: {outcome.get('error')}"
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=text)],
        structured_content=json.loads(json.dumps(outcome, default=str)),
        is_error=status in ("denied", "error"),
    )


def new_run_id() -> str:
    return "run_" + uuid.uuid4().hex[:12]
