"""``paddock mcp serve``: the catalog as an MCP server on stdio, calls fenced by Paddock."""

from __future__ import annotations

import argparse
from typing import Any

from core.domain import Budget, Run
from core.errors import ConfigError
from paddock.cli.common import add_store_flag, open_store, run_tracer


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    mcp = sub.add_parser("mcp", help="serve the catalog over the Model Context Protocol")
    msub = mcp.add_subparsers(dest="mcp_command", metavar="SUBCOMMAND")
    msub.required = True
    serve = msub.add_parser(
        "serve",
        help="MCP server on stdin/stdout; each tool call runs through the guardrails "
        "and executor (default catalog: the stored one)",
    )
    serve.add_argument(
        "--catalog",
        action="append",
        default=[],
        metavar="SPEC",
        help="OpenAPI/Swagger file or URL (repeatable; default: every spec in "
        "the versioned catalog)",
    )
    serve.add_argument(
        "--base-url",
        action="append",
        default=[],
        metavar="TITLE=URL",
        help="override the base URL of the spec with this title (repeatable)",
    )
    serve.add_argument("--tenant", default="default")
    add_store_flag(serve)
    serve.set_defaults(handler=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    try:
        import anyio
        from mcp.server.stdio import stdio_server
    except ImportError as exc:
        raise ConfigError(
            f"paddock mcp serve needs the mcp extra ({exc.name or exc} is not installed): "
            "pip install 'paddock[mcp]'"
        ) from exc

    from core.catalog import Catalog
    from paddock.cli.cmd_catalog import absolute, registry
    from paddock.cli.cmd_run import _pairs
    from paddock.cli.common import local_orchestrator
    from paddock.mcp.direct import DirectCalls
    from paddock.mcp.server import PaddockMcp, new_run_id

    sources = [absolute(s) for s in args.catalog] or [e.source for e in registry().list_entries()]
    if not sources:
        raise ConfigError(
            "no catalog: pass --catalog SPEC or store specs with "
            "`paddock catalog import SPEC --save`"
        )
    base_urls = _pairs(args.base_url, "--base-url")
    catalog = Catalog.from_sources(sources, base_urls=base_urls)
    planner = DirectCalls()
    orch = local_orchestrator(store=open_store(args.store), planners=planner, tracing=run_tracer())

    def new_run(name: str, arguments: dict[str, Any]) -> Run:
        return Run(
            id=new_run_id(),
            goal=f"MCP client call: {name}",
            tenant=args.tenant,
            catalog=sources,
            base_urls=base_urls,
            planner="mcp",
            requested_by="mcp-client",
            budget=Budget(max_steps=2),
        )

    server = PaddockMcp(catalog, orch, planner, new_run).server()

    async def serve() -> None:
        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())

    anyio.run(serve)
    return 0
