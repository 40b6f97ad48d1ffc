"""Model Context Protocol: MCP servers' tools imported as a catalog source and called (the
CLI's ``paddock mcp serve`` lives in ``paddock.mcp``)."""

from __future__ import annotations

from core.mcp.client import McpExecutor, import_mcp, is_mcp_source

__all__ = ["McpExecutor", "import_mcp", "is_mcp_source"]
