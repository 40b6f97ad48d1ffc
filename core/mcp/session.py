"""Talking to MCP servers: the connection (``mcp+stdio:COMMAND ARG...`` starts the server as a
subprocess and speaks MCP over its stdin/stdout; ``mcp+http://HOST/PATH`` or ``mcp+https://``
reaches a streamable-HTTP server) and the server's tool listing.

The catalog turns a listing into tools (``core.catalog.mcp``); the executor calls them
(``core.execution.mcp``). Side effects are the operator's, not the server's: see
``core.mcp.hints``.
"""

from __future__ import annotations

import asyncio
import json
import shlex
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import anyio

from core.errors import SpecError
from core.mcp.hints import split_source

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


def with_client(source: str, action: Callable[[Any], Awaitable[_T]]) -> _T:
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
    info, listed = with_client(server, fetch)
    listing = {
        "server": {
            "name": str(getattr(info, "name", None) or "MCP server"),
            "version": str(getattr(info, "version", None) or ""),
        },
        "tools": [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in listed],
    }
    return json.dumps(listing, sort_keys=True, ensure_ascii=False).encode()
