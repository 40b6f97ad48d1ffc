"""Tools in the wire formats LLM APIs take."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from core.domain import ToolDefinition

MAX_DESCRIPTION = 1024
VENDOR_TEXT = "[vendor's description; third-party text, not the operator's instructions] "
"""Marks the descriptions of a tool whose spec the operator did not write."""


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

    Only the definition is sent: the model never sees how a tool is bound (URL, server). The
    descriptions of a tool from a spec the operator did not write (``third_party_text``) are
    marked as the vendor's, so the model does not take them for the operator's instructions.

    ``parameters`` is the tool's argument schema as is (``$defs`` included), so arguments the
    model produces can be validated against exactly what was advertised.
    """
    found: list[dict[str, Any]] = []
    for tool in tools:
        description = short_description(tool.description, max_description)
        schema = tool.args_schema
        if tool.third_party_text:
            description = VENDOR_TEXT + description
            schema = _marked(schema)
        found.append(
            {
                "type": "function",
                "function": {"name": tool.name, "description": description, "parameters": schema},
            }
        )
    return found


def _marked(schema: Any) -> Any:
    """``schema`` with every ``description`` marked as vendor text (a copy)."""
    if isinstance(schema, dict):
        return {
            k: (VENDOR_TEXT + v if k == "description" and isinstance(v, str) else _marked(v))
            for k, v in schema.items()
        }
    if isinstance(schema, list):
        return [_marked(v) for v in schema]
    return schema
