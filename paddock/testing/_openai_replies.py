"""The replies a ``ScriptedOpenAI`` server can play, and how they look on the wire."""

from __future__ import annotations

import itertools
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

_ids = itertools.count(1)


def next_id(prefix: str) -> str:
    return f"{prefix}-{next(_ids):06d}"


@dataclass(frozen=True)
class ToolCall:
    """One tool call in a scripted reply.

    ``arguments`` is a dict (sent as JSON) or a string sent as it is, which is how a test
    plays a model that writes arguments that are not JSON. ``id`` defaults to a fresh one.
    """

    name: str
    arguments: dict[str, Any] | str = field(default_factory=dict)
    id: str | None = None


@dataclass(frozen=True)
class ToolCallsReply:
    """An assistant message with one or several (parallel) tool calls."""

    calls: Sequence[ToolCall]
    content: str | None = None
    usage: tuple[int, int] | None = None
    """(prompt_tokens, completion_tokens); estimated from the text when ``None``."""


@dataclass(frozen=True)
class TextReply:
    """An assistant message with text only."""

    content: str
    finish_reason: str = "stop"
    usage: tuple[int, int] | None = None


@dataclass(frozen=True)
class ErrorReply:
    """An HTTP error, e.g. 429/500/503, optionally with a Retry-After in seconds."""

    status: int = 500
    retry_after: float | None = None
    message: str = "scripted error"


Reply = ToolCallsReply | TextReply | ErrorReply
Turn = Reply | Callable[[dict[str, Any]], Reply]
"""A script entry: a reply, or a function of the request body returning one."""


def malformed(
    name: str, raw_arguments: str = '{"oops": ', *, content: str | None = None
) -> ToolCallsReply:
    """A tool call whose arguments are not valid JSON."""
    return ToolCallsReply([ToolCall(name, raw_arguments)], content=content)


def estimate_tokens(text: str) -> int:
    """About four characters per token, as OpenAI's rule of thumb says; at least one."""
    return max(1, math.ceil(len(text) / 4))


def prompt_tokens(body: dict[str, Any]) -> int:
    text = json.dumps(body.get("messages", []), ensure_ascii=False)
    if body.get("tools"):
        text += json.dumps(body["tools"], ensure_ascii=False)
    return estimate_tokens(text)


def completion_tokens(reply: ToolCallsReply | TextReply) -> int:
    if isinstance(reply, TextReply):
        return estimate_tokens(reply.content)
    text = reply.content or ""
    for call in reply.calls:
        args = call.arguments if isinstance(call.arguments, str) else json.dumps(call.arguments)
        text += call.name + args
    return estimate_tokens(text)


def completion_body(
    reply: ToolCallsReply | TextReply, *, model: str, usage: tuple[int, int]
) -> dict[str, Any]:
    """A ``chat.completion`` object as OpenAI returns it."""
    message: dict[str, Any] = {"role": "assistant", "refusal": None}
    if isinstance(reply, TextReply):
        message["content"] = reply.content
        finish = reply.finish_reason
    else:
        message["content"] = reply.content
        message["tool_calls"] = [
            {
                "id": call.id or next_id("call"),
                "type": "function",
                "function": {
                    "name": call.name,
                    "arguments": call.arguments
                    if isinstance(call.arguments, str)
                    else json.dumps(call.arguments),
                },
            }
            for call in reply.calls
        ]
        finish = "tool_calls"
    prompt, completion = usage
    return {
        "id": next_id("chatcmpl"),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": "fp_scripted",
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        },
    }


def error_body(message: str, *, kind: str, code: str | None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def retry_headers(seconds: float | None) -> dict[str, str]:
    """``retry-after`` (whole seconds, as HTTP says) and ``retry-after-ms`` (as Azure adds)."""
    if seconds is None:
        return {}
    seconds = max(0.0, seconds)
    return {
        "retry-after": str(math.ceil(seconds)),
        "retry-after-ms": str(math.ceil(seconds * 1000)),
    }
