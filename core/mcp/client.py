"""MCP servers as a catalog source, and the executor that calls their tools.

A source ``mcp+stdio:COMMAND ARG...`` starts the server as a subprocess and speaks MCP over its
stdin/stdout; ``mcp+http://HOST/PATH`` (or ``mcp+https://``) reaches a streamable-HTTP server.
Each tool becomes a ``Tool`` with an ``McpBinding`` (the server and the tool's own name), so the
executor router sends its calls to ``McpExecutor``, through the same guard, approvals, drift
checks and traces as HTTP tools.

Side effects are the operator's, not the server's: the annotations a server lists are untrusted
hints, so every tool is ``destructive`` unless the operator pins its class on the source
(``mcp+...#read=a,b&write=c``) or trusts that server's hints (``#trust-hints``); see
``core.mcp.hints``. The hinted class is kept on each tool for drift. Results are untrusted text
for provenance, like any third-party content.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import shlex
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

import anyio

from core.catalog._naming import sanitize, unique
from core.catalog.openapi import ImportResult
from core.domain import McpBinding, SideEffect, SpecRef, Tool, Trust
from core.errors import SpecError
from core.execution._schema import validate_body
from core.execution.base import CallContext, ExecutionResult, refused
from core.mcp.hints import hinted_side_effect, side_effect, split_source, unknown_pins

if TYPE_CHECKING:
    from core.execution.hooks import CallVerifier

PREFIX = "mcp+"
MCP_FORMAT = "mcp"
_T = TypeVar("_T")


def is_mcp_source(source: str) -> bool:
    return source.startswith(PREFIX)


def _server(server: str) -> Any:
    """What the SDK connects to, from a source without its ``#`` options (``McpBinding.server``):
    those are split off once, so a command that contains ``#`` survives."""
    from mcp.client.stdio import StdioServerParameters

    target = server[len(PREFIX) :]
    if target.startswith("stdio:"):
        argv = shlex.split(target[len("stdio:") :])
        if not argv:
            raise SpecError(f"{server}: no command after mcp+stdio:")
        return StdioServerParameters(command=argv[0], args=argv[1:])
    if target.startswith(("http://", "https://")):
        return target
    raise SpecError(f"{server}: an MCP source is mcp+stdio:COMMAND or mcp+http(s)://URL")


def _with_client(source: str, action: Callable[[Any], Awaitable[_T]]) -> _T:
    """Run ``action`` with a client connected to ``source`` (a server, no ``#`` options)."""
    try:
        from mcp.client import Client
    except ImportError as exc:
        raise SpecError("MCP sources need the mcp package: pip install 'paddock[mcp]'") from exc
    server = _server(source)

    async def run() -> _T:
        async with Client(server) as client:
            return await action(client)

    try:
        return _run_blocking(run)
    except SpecError:
        raise
    except Exception as exc:  # the SDK raises transport and protocol errors of many kinds
        raise SpecError(f"{source}: MCP server failed: {type(exc).__name__}: {exc}") from exc


def _run_blocking(run: Callable[[], Awaitable[_T]]) -> _T:
    """Run ``run`` to completion from synchronous code, also when this thread already runs an
    event loop (an ASGI server, a test's browser driver): then on a thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return anyio.run(run)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="paddock-mcp") as pool:
        return pool.submit(anyio.run, run).result()


def fetch_listing(source: str) -> bytes:
    """What the MCP server at ``source`` lists (server name and version, every tool as MCP
    sends it), as canonical JSON: the bytes the versioned catalog stores and hashes.

    Raises:
        SpecError: the server cannot be started or reached, or does not speak MCP.
    """

    async def fetch(client: Any) -> tuple[Any, list[Any]]:
        tools: list[Any] = []
        cursor: str | None = None
        while True:
            page = await client.list_tools(cursor=cursor)
            tools.extend(page.tools)
            cursor = page.next_cursor
            if not cursor:
                return client.server_info, tools

    server = split_source(source)[0]  # bad options fail before a server is started
    info, listed = _with_client(server, fetch)
    listing = {
        "server": {
            "name": str(getattr(info, "name", None) or "MCP server"),
            "version": str(getattr(info, "version", None) or ""),
        },
        "tools": [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in listed],
    }
    return json.dumps(listing, sort_keys=True, ensure_ascii=False).encode()


def import_mcp(source: str) -> ImportResult:
    """The tools an MCP server lists, as catalog tools.

    Raises:
        SpecError: the server cannot be started or reached, or does not speak MCP.
    """
    raw = fetch_listing(source)
    return tools_from_listing(json.loads(raw), source=source, raw=raw)


def listing_title(listing: dict[str, Any]) -> tuple[str, str]:
    """The server's name and version in a listing."""
    server = listing.get("server")
    server = server if isinstance(server, dict) else {}
    return str(server.get("name") or "MCP server"), str(server.get("version") or "")


def tools_from_listing(listing: dict[str, Any], *, source: str, raw: bytes) -> ImportResult:
    """Catalog tools from a listing made by :func:`fetch_listing` (live or stored).

    Raises:
        SpecError: the listing is not one, or the source's options are bad.
    """
    items = listing.get("tools")
    if not isinstance(items, list) or not all(
        isinstance(i, dict) and isinstance(i.get("name"), str) for i in items
    ):
        raise SpecError(f"{source}: not an MCP tool listing")
    server, options = split_source(source)
    title, version = listing_title(listing)
    spec = SpecRef(
        title=title,
        version=version,
        source=source,
        sha256=hashlib.sha256(raw).hexdigest(),
        format=MCP_FORMAT,
    )
    taken: set[str] = set()
    tools: list[Tool] = []
    warnings = unknown_pins(options, {i["name"] for i in items})
    for item in items:
        listed_name: str = item["name"]
        name = unique(sanitize(listed_name) or "tool", taken)
        taken.add(name)
        if name != listed_name:
            warnings.append(f"MCP tool {listed_name!r} is called {name!r} here")
        annotations = item.get("annotations")
        hint = hinted_side_effect(annotations if isinstance(annotations, dict) else None)
        output = item.get("outputSchema")
        tools.append(
            Tool(
                name=name,
                description=str(item.get("description") or listed_name),
                args_schema=dict(item.get("inputSchema") or {"type": "object"}),
                binding=McpBinding(server=server, tool=listed_name),
                side_effect=side_effect(listed_name, hint, options),
                side_effect_hint=hint,
                trust=Trust.UNTRUSTED,
                responses={"200": output} if isinstance(output, dict) else {},
                spec=spec,
            )
        )
    return ImportResult(spec=spec, tools=tools, warnings=warnings)


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
            reply = _with_client(binding.server, call)
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
