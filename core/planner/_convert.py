"""The planner's chat history in the wire formats of Bedrock Converse and Anthropic Messages.

The history is built once, in the chat.completions shape (``core.planner.messages``), and
translated here, so every planner shows the model the same run. Both wires differ from it in the
same ways: the system prompt travels apart, tool results are blocks of a *user* turn, turns
must alternate between user and assistant, tool-use inputs are JSON objects (not strings), and
tool-use ids may hold only letters, digits, ``_`` and ``-``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Result",
    "Text",
    "Use",
    "WireTurn",
    "anthropic_messages",
    "anthropic_tools",
    "bedrock_messages",
    "bedrock_tools",
    "to_turns",
]

_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
_CONTINUE = "Continue."


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Use:
    """A tool call the assistant made."""

    id: str
    name: str
    input: dict[str, Any]


@dataclass(frozen=True)
class Result:
    """The outcome of a tool call, shown to the model in the next user turn."""

    id: str
    text: str


Block = Text | Use | Result


@dataclass
class WireTurn:
    role: str
    """``user`` or ``assistant``."""
    blocks: list[Block]


def to_turns(messages: list[dict[str, Any]]) -> tuple[str, list[WireTurn]]:
    """The system text and alternating user/assistant turns (the first and last are user)."""
    system: list[str] = []
    turns: list[WireTurn] = []
    for message in messages:
        role = message.get("role")
        if role == "system":
            system.append(str(message.get("content") or ""))
            continue
        blocks = _blocks(message)
        if not blocks:
            continue
        wire_role = "assistant" if role == "assistant" else "user"
        if turns and turns[-1].role == wire_role:
            turns[-1].blocks.extend(blocks)
        else:
            turns.append(WireTurn(wire_role, blocks))
    if not turns or turns[0].role != "user":
        turns.insert(0, WireTurn("user", [Text(_CONTINUE)]))
    if turns[-1].role != "user":
        turns.append(WireTurn("user", [Text(_CONTINUE)]))
    for turn in turns:  # results first in a user turn, as both wires want them
        turn.blocks.sort(key=lambda b: 0 if isinstance(b, Result) else 1)
    return "\n\n".join(s for s in system if s), turns


def _blocks(message: dict[str, Any]) -> list[Block]:
    if message.get("role") == "tool":
        return [Result(_safe_id(str(message.get("tool_call_id") or "")), _text(message))]
    blocks: list[Block] = []
    text = _text(message)
    if text.strip():
        blocks.append(Text(text))
    for call in message.get("tool_calls") or []:
        function = call.get("function") or {}
        blocks.append(
            Use(
                _safe_id(str(call.get("id") or "")),
                # A call without a name is echoed back for correction; both wires need one.
                str(function.get("name") or "unnamed"),
                _input(function.get("arguments")),
            )
        )
    return blocks


def _text(message: dict[str, Any]) -> str:
    content = message.get("content")
    return content if isinstance(content, str) else ""


def _input(arguments: Any) -> dict[str, Any]:
    """The arguments as an object; text that is not one (a malformed call echoed back for
    correction) is kept under ``arguments`` so the model sees what it wrote."""
    if isinstance(arguments, dict):
        return arguments
    raw = str(arguments or "")
    try:
        parsed = json.loads(raw) if raw.strip() else {}
    except ValueError:
        return {"arguments": raw}
    return parsed if isinstance(parsed, dict) else {"arguments": raw}


def _safe_id(given: str) -> str:
    return _ID_UNSAFE.sub("_", given) or "call"


# -- Bedrock Converse ------------------------------------------------------------------------


def bedrock_messages(turns: list[WireTurn]) -> list[dict[str, Any]]:
    """Converse ``messages``: ``text``, ``toolUse`` and ``toolResult`` content blocks."""
    return [{"role": t.role, "content": [_bedrock_block(b) for b in t.blocks]} for t in turns]


def _bedrock_block(block: Block) -> dict[str, Any]:
    if isinstance(block, Text):
        return {"text": block.text}
    if isinstance(block, Use):
        return {"toolUse": {"toolUseId": block.id, "name": block.name, "input": block.input}}
    return {"toolResult": {"toolUseId": block.id, "content": [{"text": block.text or "(empty)"}]}}


def bedrock_tools(specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Converse ``toolConfig.tools`` from chat.completions function tools."""
    tools = []
    for spec in specs:
        function = spec["function"]
        tools.append(
            {
                "toolSpec": {
                    "name": function["name"],
                    "description": function.get("description") or function["name"],
                    "inputSchema": {"json": function.get("parameters") or {"type": "object"}},
                }
            }
        )
    return tools


# -- Anthropic Messages ----------------------------------------------------------------------


def anthropic_messages(turns: list[WireTurn]) -> list[dict[str, Any]]:
    """Messages ``messages``: ``text``, ``tool_use`` and ``tool_result`` content blocks."""
    return [{"role": t.role, "content": [_anthropic_block(b) for b in t.blocks]} for t in turns]


def _anthropic_block(block: Block) -> dict[str, Any]:
    if isinstance(block, Text):
        return {"type": "text", "text": block.text}
    if isinstance(block, Use):
        return {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
    return {"type": "tool_result", "tool_use_id": block.id, "content": block.text or "(empty)"}


def anthropic_tools(specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Messages ``tools`` from chat.completions function tools."""
    return [
        {
            "name": spec["function"]["name"],
            "description": spec["function"].get("description") or spec["function"]["name"],
            "input_schema": spec["function"].get("parameters") or {"type": "object"},
        }
        for spec in specs
    ]
