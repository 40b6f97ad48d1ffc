"""A scripted Anthropic Messages API server: the test double for the Anthropic planner.

It answers ``POST /v1/messages`` as Anthropic does (``content`` with ``text`` and ``tool_use``
blocks, ``stop_reason``, ``usage``; errors as ``{"type": "error", "error": {...}}`` with
``retry-after``), so the real ``anthropic`` client, given ``base_url``, talks to it over HTTP on
127.0.0.1. It plays the same scripts as ``ScriptedOpenAI`` (``TextReply``, ``ToolCallsReply``,
``ErrorReply``), records every request, and answers 429 past its RPM/TPM limits.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from paddock.testing._openai_replies import (
    ErrorReply,
    TextReply,
    ToolCall,
    ToolCallsReply,
    Turn,
    estimate_tokens,
    next_id,
    retry_headers,
)
from paddock.testing.fake_openai import ScriptedOpenAI

__all__ = ["ErrorReply", "ScriptedAnthropic", "TextReply", "ToolCall", "ToolCallsReply", "Turn"]

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}
_STOP = {"stop": "end_turn", "length": "max_tokens"}


class ScriptedAnthropic(ScriptedOpenAI):
    """An Anthropic Messages server that plays ``script`` one turn per request.

    Takes the options of ``ScriptedOpenAI``; ``api_key``, when set, must come as
    ``x-api-key`` (or ``Authorization: Bearer``). Give ``base_url`` to ``anthropic.Anthropic``
    or export it as ``ANTHROPIC_BASE_URL``.
    """

    def __init__(self, script: Any = (), **options: Any) -> None:
        super().__init__(script, **options)
        self.app.router.routes = [Route("/v1/messages", self._handle, methods=["POST"])]

    @property
    def base_url(self) -> str:
        """What ``Anthropic(base_url=...)`` (or ``ANTHROPIC_BASE_URL``) takes."""
        return self.url

    def _refuse(self, request: Request, body: Any, deployment: str | None) -> JSONResponse | None:
        return self._check(request, body)

    def _prompt_tokens(self, body: dict[str, Any]) -> int:
        return _prompt_tokens(body)

    def _reply_body(
        self,
        reply: ToolCallsReply | TextReply,
        body: dict[str, Any],
        deployment: str | None,
        usage: tuple[int, int],
    ) -> dict[str, Any]:
        return _message_body(reply, self._model or str(body.get("model") or "scripted"), usage)

    def _check(self, request: Request, body: Any) -> JSONResponse | None:
        if self._api_key is not None:
            keys = {
                request.headers.get("x-api-key", ""),
                request.headers.get("authorization", "").removeprefix("Bearer "),
            }
            if self._api_key not in keys:
                return self._error(401, "invalid x-api-key")
        if not request.headers.get("anthropic-version"):
            return self._error(400, "anthropic-version: header is required")
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            return self._error(400, "messages: Field required")
        if not isinstance(body.get("max_tokens"), int):
            return self._error(400, "max_tokens: Field required")
        return None

    def _limited(self, message: str, wait: float | None) -> JSONResponse:
        # Called with the lock held.
        self._counters.throttled += 1
        return _error_response(429, message, wait)

    def _error(
        self,
        status: int,
        message: str,
        *,
        retry_after: float | None = None,
        code: str | None = None,
    ) -> JSONResponse:
        with self._lock:
            self._counters.errors += 1
        return _error_response(status, message, retry_after)


def _error_response(status: int, message: str, wait: float | None) -> JSONResponse:
    kind = _ERROR_TYPES.get(status) or ("api_error" if status >= 500 else "invalid_request_error")
    return JSONResponse(
        {"type": "error", "error": {"type": kind, "message": message}},
        status_code=status,
        headers=retry_headers(wait),
    )


def _prompt_tokens(body: dict[str, Any]) -> int:
    text = json.dumps(
        [body.get("system"), body.get("messages"), body.get("tools")], ensure_ascii=False
    )
    return estimate_tokens(text)


def _message_body(
    reply: ToolCallsReply | TextReply, model: str, usage: tuple[int, int]
) -> dict[str, Any]:
    """A Messages response: a string ``arguments`` is sent as the ``input`` as it is (a
    malformed tool-use block)."""
    content: list[dict[str, Any]] = []
    if reply.content:
        content.append({"type": "text", "text": reply.content})
    if isinstance(reply, TextReply):
        stop = _STOP.get(reply.finish_reason, reply.finish_reason)
    else:
        stop = "tool_use"
        content.extend(
            {
                "type": "tool_use",
                "id": call.id or next_id("toolu"),
                "name": call.name,
                "input": call.arguments,
            }
            for call in reply.calls
        )
    return {
        "id": next_id("msg"),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": {"input_tokens": usage[0], "output_tokens": usage[1]},
    }
