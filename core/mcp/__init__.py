"""Model Context Protocol: the catalog served over MCP (``core.mcp.server``, which needs the
``mcp`` package) and MCP servers' tools imported as a catalog source."""

from __future__ import annotations

from core.mcp.client import McpExecutor, ToolRouter, import_mcp, is_mcp_source
from core.mcp.direct import DirectCalls

__all__ = ["DirectCalls", "McpExecutor", "ToolRouter", "import_mcp", "is_mcp_source"]
