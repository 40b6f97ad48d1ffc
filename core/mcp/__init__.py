"""Model Context Protocol: the connection to MCP servers and what their tool hints may say.

MCP servers' tools become catalog tools in ``core.catalog.mcp`` and are called by
``core.execution.mcp``; the CLI's ``paddock mcp serve`` lives in ``paddock.mcp``.
"""

from __future__ import annotations

from core.mcp.session import fetch_listing, is_mcp_source

__all__ = ["fetch_listing", "is_mcp_source"]
