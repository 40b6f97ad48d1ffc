"""A scripted Amazon Bedrock Runtime server speaking the Converse API: the test double for the
Bedrock planner.

It answers ``POST /model/{modelId}/converse`` as Bedrock does (``output.message.content`` with
``text`` and ``toolUse`` blocks, ``stopReason``, ``usage``; errors with ``x-amzn-ErrorType``),
so the real boto3 ``bedrock-runtime`` client, pointed at it with ``endpoint_url``, signs and
sends real requests over HTTP on 127.0.0.1. It plays the same scripts as ``ScriptedOpenAI``
(``TextReply``, ``ToolCallsReply``, ``ErrorReply``), records every request, and answers 429
``ThrottlingException`` past its RPM/TPM limits.
"""

from __future__ import annotations

import json
import re
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

__all__ = ["ErrorReply", "ScriptedBedrock", "TextReply", "ToolCall", "ToolCallsReply", "Turn"]

_ERROR_CODES = {
    400: "ValidationException",
    403: "AccessDeniedException",
    404: "ResourceNotFoundException",
    408: "ModelTimeoutException",
    424: "ModelErrorException",
    429: "ThrottlingException",
    500: "InternalServerException",
    503: "ServiceUnavailableException",
}
_STOP = {"stop": "end_turn", "length": "max_tokens"}
_KEY_ID = re.compile(r"Credential=([A-Z0-9]+)/")


class ScriptedBedrock(ScriptedOpenAI):
    """A Bedrock Converse server that plays ``script`` one turn per request.

    Takes the options of ``ScriptedOpenAI`` (``api_key`` is ignored: requests must be SigV4
    signed, and ``access_key_ids`` lists the key ids seen). Serve it as a context manager and
    give ``endpoint_url`` to ``boto3.client("bedrock-runtime", endpoint_url=...)`` or export it
    as ``AWS_ENDPOINT_URL_BEDROCK_RUNTIME``.
    """

    def __init__(self, script: Any = (), **options: Any) -> None:
        super().__init__(script, **options)
        self.access_key_ids: list[str] = []
        self.app.router.routes = [
            Route("/model/{deployment:path}/converse", self._handle, methods=["POST"])
        ]

    @property
    def endpoint_url(self) -> str:
        """What ``endpoint_url`` (or ``AWS_ENDPOINT_URL_BEDROCK_RUNTIME``) takes."""
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
        return _converse_body(reply, usage)

    def _check(self, request: Request, body: Any) -> JSONResponse | None:
        authorization = request.headers.get("authorization", "")
        found = _KEY_ID.search(authorization)
        if not authorization.startswith("AWS4-HMAC-SHA256") or found is None:
            return self._error(403, "Missing Authentication Token", code="AccessDeniedException")
        with self._lock:
            self.access_key_ids.append(found.group(1))
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            return self._error(400, "messages: the body must be JSON with a messages array")
        return None

    def _limited(self, message: str, wait: float | None) -> JSONResponse:
        # Called with the lock held.
        self._counters.throttled += 1
        return _error_response(429, message, "ThrottlingException", wait)

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
        kind = (
            code
            or _ERROR_CODES.get(status)
            or ("InternalServerException" if status >= 500 else "ValidationException")
        )
        return _error_response(status, message, kind, retry_after)


def _error_response(status: int, message: str, code: str, wait: float | None) -> JSONResponse:
    return JSONResponse(
        {"message": message},
        status_code=status,
        headers={
            "x-amzn-ErrorType": f"{code}:http://internal.amazon.com/coral/",
            **retry_headers(wait),
        },
    )


def _prompt_tokens(body: dict[str, Any]) -> int:
    text = json.dumps(
        [body.get("system"), body.get("messages"), body.get("toolConfig")], ensure_ascii=False
    )
    return estimate_tokens(text)


def _converse_body(reply: ToolCallsReply | TextReply, usage: tuple[int, int]) -> dict[str, Any]:
    """A Converse response: a string ``arguments`` is sent as the ``input`` as it is (a
    malformed tool-use block)."""
    content: list[dict[str, Any]] = []
    if reply.content:
        content.append({"text": reply.content})
    if isinstance(reply, TextReply):
        stop = _STOP.get(reply.finish_reason, reply.finish_reason)
    else:
        stop = "tool_use"
        content.extend(
            {
                "toolUse": {
                    "toolUseId": call.id or next_id("tooluse"),
                    "name": call.name,
                    "input": call.arguments,
                }
            }
            for call in reply.calls
        )
    prompt, completion = usage
    return {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": stop,
        "usage": {
            "inputTokens": prompt,
            "outputTokens": completion,
            "totalTokens": prompt + completion,
        },
        "metrics": {"latencyMs": 1},
    }
