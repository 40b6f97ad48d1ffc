"""The executor of MCP tools: one short session per call, through the same capability check
as HTTP calls."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from core.domain import McpBinding, SideEffect, Tool
from core.errors import SpecError
from core.execution._schema import validate_body
from core.execution.base import CallContext, ExecutionResult, refused
from core.mcp.session import with_client

if TYPE_CHECKING:
    from core.execution.hooks import CallVerifier


class McpExecutor:
    """Calls MCP tools (one short session per call). A finished call reads as status 200;
    a tool-reported error (``isError``) keeps its content and sets ``error``. With a
    ``verifier`` (the identity layer's capability check) a refused call is never sent; a tool
    that is not bound to an MCP server is refused too."""

    def __init__(self, verifier: CallVerifier | None = None) -> None:
        self._verifier = verifier

    def execute(self, tool: Tool, args: dict[str, Any], ctx: CallContext) -> ExecutionResult:
        binding = tool.binding
        if not isinstance(binding, McpBinding):
            return refused(f"{tool.name}: binding {binding.kind!r} is not MCP")
        if self._verifier is not None:
            reason = self._verifier.verify(tool, args, ctx)
            if reason is not None:
                return refused(reason)
        started = time.perf_counter()

        async def call(client: Any) -> Any:
            return await client.call_tool(binding.tool, args)

        try:
            reply = with_client(binding.server, call)
        except SpecError as exc:
            return ExecutionResult(
                error=exc.message,
                retryable=tool.side_effect is SideEffect.READ,
                elapsed_ms=(time.perf_counter() - started) * 1000,
            )
        texts = [getattr(c, "text", "") for c in reply.content if getattr(c, "text", None)]
        body: Any = (
            reply.structured_content if reply.structured_content is not None else ("\n".join(texts))
        )
        result = ExecutionResult(
            status_code=200, body=body, elapsed_ms=(time.perf_counter() - started) * 1000
        )
        schema = tool.response_schema(200)
        if schema is not None and reply.structured_content is not None:
            result.valid, result.validation_errors = validate_body(schema, body)
        if reply.is_error:
            result.error = "MCP tool error: " + (" ".join(texts)[:300] or "no details")
        return result
