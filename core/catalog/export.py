"""Tools in the wire formats LLM APIs take."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from core.domain import ToolDefinition

MAX_DESCRIPTION = 1024


def short_description(text: str, limit: int = MAX_DESCRIPTION) -> str:
    """``text`` whitespace-trimmed and cut at a word boundary to at most ``limit`` characters."""
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip() + "…"


def to_openai_tools(
    tools: Iterable[ToolDefinition], *, max_description: int = MAX_DESCRIPTION
) -> list[dict[str, Any]]:
    """OpenAI function-calling tools: ``{"type": "function", "function": {...}}`` each.

    Only the definition is sent: the model never sees how a tool is bound (URL, server).

    ``parameters`` is the tool's argument schema as is (``$defs`` included), so arguments the
    model produces can be validated against exactly what was advertised.
    """
    return [
        {
            "type": "function",
            "function": {
                "name": tool.name,
                "description": short_description(tool.description, max_description),
                "parameters": tool.args_schema,
            },
        }
        for tool in tools
    ]
