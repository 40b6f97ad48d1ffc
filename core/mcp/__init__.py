"""Model Context Protocol: the catalog served over MCP, and MCP servers' tools imported."""

from __future__ import annotations

__all__: list[str] = []
