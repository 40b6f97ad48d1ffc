"""MCP servers as a catalog source: each listed tool becomes a ``Tool`` with an ``McpBinding``
(the server and the tool's own name), so the executor router sends its calls to the MCP
executor, through the same guard, approvals, drift checks and traces as HTTP tools.

Side effects are the operator's, not the server's: the annotations a server lists are untrusted
hints, so every tool is ``destructive`` unless the operator pins its class on the source
(``mcp+...#read=a,b&write=c``) or trusts that server's hints (``#trust-hints``); see
``core.mcp.hints``. The hinted class is kept on each tool for drift. Results are untrusted text
for provenance, like any third-party content.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from core.catalog._naming import sanitize, unique
from core.catalog.openapi import ImportResult
from core.domain import McpBinding, SpecRef, Tool, Trust
from core.errors import SpecError
from core.mcp.hints import hinted_side_effect, side_effect, split_source, unknown_pins
from core.mcp.session import MCP_FORMAT, fetch_listing


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
