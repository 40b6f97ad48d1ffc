"""The router by binding kind: each call goes to its binding's executor; a kind with no
executor, and a tool handed to the wrong executor, are refused before anything is sent."""

from __future__ import annotations

from core.domain import McpBinding, Tool
from core.execution import BindingRouter, CallContext, HttpExecutor
from core.execution.mcp import McpExecutor
from core.orchestrator.tool_search import SEARCH_TOOL_DEF
from core.runtime import default_executor

from .backend import Backend, make_tool

# A server that cannot start: reaching it would fail loudly, so a clean refusal proves that
# nothing tried to.
MCP_TOOL = Tool(
    name="list_records",
    description="Records.",
    args_schema={"type": "object"},
    binding=McpBinding(server="mcp+stdio:/nonexistent/mcp-server", tool="list.records"),
)


def test_http_tools_go_to_the_http_executor(
    executor: HttpExecutor, backend: Backend, base_url: str, ctx: CallContext
) -> None:
    router = BindingRouter({"http": executor, "mcp": McpExecutor()})
    result = router.execute(make_tool(base_url), {}, ctx)
    assert result.ok and result.attempts == 1
    assert [s.method for s in backend.seen] == ["GET"]


def test_a_kind_without_an_executor_is_refused_as_data(
    executor: HttpExecutor, backend: Backend, ctx: CallContext
) -> None:
    router = BindingRouter({"http": executor})
    result = router.execute(MCP_TOOL, {}, ctx)
    assert result.refused is not None and result.attempts == 0 and not result.ok
    assert "no executor for mcp tools" in result.refused and "runs: http" in result.refused
    assert result.error == f"refused: {result.refused}"
    assert backend.seen == []


def test_engine_tools_never_reach_an_executor(backend: Backend, ctx: CallContext) -> None:
    result = default_executor().execute(SEARCH_TOOL_DEF, {"query": "refund"}, ctx)
    assert result.refused is not None and "no executor for engine tools" in result.refused
    assert backend.seen == []


def test_each_executor_refuses_a_tool_bound_to_another_wire(
    executor: HttpExecutor, backend: Backend, base_url: str, ctx: CallContext
) -> None:
    over_http = executor.execute(MCP_TOOL, {}, ctx)
    assert over_http.refused == "list_records: binding 'mcp' is not HTTP"
    over_mcp = McpExecutor().execute(make_tool(base_url), {}, ctx)
    assert over_mcp.refused == "tool: binding 'http' is not MCP"
    assert over_http.attempts == over_mcp.attempts == 0
    assert backend.seen == []
