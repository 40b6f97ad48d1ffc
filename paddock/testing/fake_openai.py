"""A scripted OpenAI-compatible chat.completions server: the test double for LLM planners.

It speaks the wire format of ``/v1/chat/completions`` and of Azure OpenAI's
``/openai/deployments/{deployment}/chat/completions?api-version=...``, so the real ``openai``
client (``OpenAI`` and ``AzureOpenAI``) talks to it over real HTTP on 127.0.0.1. Each request
plays the next turn of a script; every request is recorded for assertions. Optional
requests-per-minute and tokens-per-minute limits answer 429 with ``Retry-After`` as the real
services do.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from paddock.local.servers import LocalServer
from paddock.testing._openai_replies import (
    ErrorReply,
    Reply,
    TextReply,
    ToolCall,
    ToolCallsReply,
    Turn,
    completion_body,
    completion_tokens,
    error_body,
    malformed,
    prompt_tokens,
    retry_headers,
)

__all__ = [
    "Counters",
    "ErrorReply",
    "RecordedRequest",
    "Reply",
    "ScriptedOpenAI",
    "TextReply",
    "ToolCall",
    "ToolCallsReply",
    "Turn",
    "malformed",
]


@dataclass(frozen=True)
class RecordedRequest:
    """One request the server received, whatever it answered."""

    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: dict[str, Any]
    deployment: str | None
    status: int
    """The HTTP status the server answered with."""


@dataclass
class Counters:
    """What the server did so far (a snapshot is returned by ``ScriptedOpenAI.counters``)."""

    requests: int = 0
    completions: int = 0
    errors: int = 0
    """Scripted HTTP errors and bad requests."""
    throttled: int = 0
    """429 answers from the RPM/TPM limits."""
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass
class _Window:
    """Requests and tokens accepted over the last ``seconds``: a sliding window."""

    seconds: float
    entries: deque[tuple[float, int]] = field(default_factory=deque)

    def prune(self, now: float) -> None:
        while self.entries and self.entries[0][0] <= now - self.seconds:
            self.entries.popleft()

    def tokens(self) -> int:
        return sum(tokens for _, tokens in self.entries)

    def wait_for_requests(self, now: float, limit: int) -> float | None:
        """Seconds until one more request fits under ``limit``; ``None`` if it fits now."""
        if len(self.entries) < limit:
            return None
        return self.entries[len(self.entries) - limit][0] + self.seconds - now

    def wait_for_tokens(self, now: float, limit: int, wanted: int) -> float | None:
        """Seconds until ``wanted`` more tokens fit under ``limit``; ``None`` if they fit now."""
        excess = self.tokens() + wanted - limit
        if excess <= 0:
            return None
        for stamp, tokens in self.entries:
            excess -= tokens
            if excess <= 0:
                return stamp + self.seconds - now
        return None


class ScriptedOpenAI:
    """An OpenAI-compatible server that plays ``script`` one turn per request.

    Args:
        script: replies in order; a callable turn gets the request body and returns a reply.
        default: the turn played once the script is used up; without one the server answers
            400 ("script exhausted"), which the client does not retry.
        api_key: when set, requests must carry it (``Authorization: Bearer`` or ``api-key``).
        rpm_limit: requests per window above which the server answers 429 with Retry-After.
        tpm_limit: tokens (prompt + completion) per window, likewise.
        window_seconds: the limits' sliding window (60 s, as "per minute" says).
        latency_seconds: added before each answer, to play a slow model.
        model: the model name in answers (default: the request's model or deployment).
        clock: monotonic seconds, injectable for the limits.

    Use as a context manager to serve it on 127.0.0.1 (``base_url`` for ``OpenAI``,
    ``azure_endpoint`` for ``AzureOpenAI``), or mount ``app`` elsewhere.
    """

    def __init__(
        self,
        script: Sequence[Turn] = (),
        *,
        default: Turn | None = None,
        api_key: str | None = None,
        rpm_limit: int | None = None,
        tpm_limit: int | None = None,
        window_seconds: float = 60.0,
        latency_seconds: float = 0.0,
        model: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._script: deque[Turn] = deque(script)
        self._default = default
        self._api_key = api_key
        self._rpm = rpm_limit
        self._tpm = tpm_limit
        self._window = _Window(window_seconds)
        self._latency = latency_seconds
        self._model = model
        self._clock = clock
        self._lock = threading.Lock()
        self._counters = Counters()
        self.requests: list[RecordedRequest] = []
        self.app = Starlette(
            routes=[
                Route("/v1/chat/completions", self._handle, methods=["POST"]),
                Route("/chat/completions", self._handle, methods=["POST"]),
                Route(
                    "/openai/deployments/{deployment}/chat/completions",
                    self._handle,
                    methods=["POST"],
                ),
            ]
        )
        self._server: LocalServer | None = None

    # -- script and observations --------------------------------------------------------

    def add(self, *turns: Turn) -> None:
        """Append turns to the script."""
        with self._lock:
            self._script.extend(turns)

    @property
    def remaining(self) -> int:
        """Turns of the script not played yet."""
        with self._lock:
            return len(self._script)

    @property
    def counters(self) -> Counters:
        with self._lock:
            return Counters(**vars(self._counters))

    @property
    def bodies(self) -> list[dict[str, Any]]:
        """The JSON bodies of the requests answered 200, in order."""
        return [r.body for r in self.requests if r.status == 200]

    # -- serving --------------------------------------------------------------------------

    def start(self) -> ScriptedOpenAI:
        self._server = LocalServer(self.app, name="scripted-openai").start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the scripted OpenAI server is not started")
        return self._server.url

    @property
    def base_url(self) -> str:
        """What ``OpenAI(base_url=...)`` takes."""
        return self.url + "/v1"

    @property
    def azure_endpoint(self) -> str:
        """What ``AzureOpenAI(azure_endpoint=...)`` takes."""
        return self.url

    def __enter__(self) -> ScriptedOpenAI:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- the endpoint ---------------------------------------------------------------------

    async def _handle(self, request: Request) -> JSONResponse:
        deployment = request.path_params.get("deployment")
        try:
            body = json.loads(await request.body())
        except ValueError:
            body = None
        response = self._answer(request, body, deployment)
        with self._lock:
            self.requests.append(
                RecordedRequest(
                    path=request.url.path,
                    query=dict(request.query_params),
                    headers=dict(request.headers),
                    body=body if isinstance(body, dict) else {},
                    deployment=deployment,
                    status=response.status_code,
                )
            )
        if self._latency:
            await asyncio.sleep(self._latency)
        return response

    def _answer(self, request: Request, body: Any, deployment: str | None) -> JSONResponse:
        """One request: refused, throttled, an error the script plays, or the next reply in
        the wire's own format (the three hooks below are what a wire overrides)."""
        with self._lock:
            self._counters.requests += 1
        refused = self._refuse(request, body, deployment)
        if refused is not None:
            return refused
        assert isinstance(body, dict)
        wanted = self._prompt_tokens(body)
        throttled = self._throttle(wanted)
        if throttled is not None:
            return throttled
        reply = self._next_reply(body)
        if isinstance(reply, JSONResponse):
            return reply
        if isinstance(reply, ErrorReply):
            return self._error(reply.status, reply.message, retry_after=reply.retry_after)
        usage = reply.usage or (wanted, completion_tokens(reply))
        self._served(usage)
        return JSONResponse(self._reply_body(reply, body, deployment, usage))

    def _served(self, usage: tuple[int, int]) -> None:
        with self._lock:
            self._window.entries.append((self._clock(), sum(usage)))
            self._counters.completions += 1
            self._counters.prompt_tokens += usage[0]
            self._counters.completion_tokens += usage[1]

    def _prompt_tokens(self, body: dict[str, Any]) -> int:
        return prompt_tokens(body)

    def _reply_body(
        self,
        reply: ToolCallsReply | TextReply,
        body: dict[str, Any],
        deployment: str | None,
        usage: tuple[int, int],
    ) -> dict[str, Any]:
        model = self._model or str(body.get("model") or deployment or "scripted")
        return completion_body(reply, model=model, usage=usage)

    def _refuse(self, request: Request, body: Any, deployment: str | None) -> JSONResponse | None:
        if self._api_key is not None:
            keys = {
                request.headers.get("authorization", ""),
                "Bearer " + request.headers.get("api-key", ""),
            }
            if f"Bearer {self._api_key}" not in keys:
                return self._error(401, "Incorrect API key provided", code="invalid_api_key")
        if deployment is not None and not request.query_params.get("api-version"):
            return self._error(400, "missing required query parameter api-version")
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            return self._error(400, "the body must be JSON with a 'messages' array")
        return None

    def _throttle(self, wanted: int) -> JSONResponse | None:
        with self._lock:
            now = self._clock()
            self._window.prune(now)
            if self._rpm is not None:
                wait = self._window.wait_for_requests(now, self._rpm)
                if wait is not None:
                    return self._limited(
                        f"Rate limit reached: {self._rpm} requests per {self._window.seconds:g} s",
                        wait,
                    )
            if self._tpm is not None:
                if wanted > self._tpm:
                    return self._limited(
                        f"Request too large: {wanted} tokens, limit {self._tpm}", None
                    )
                wait = self._window.wait_for_tokens(now, self._tpm, wanted)
                if wait is not None:
                    return self._limited(
                        f"Rate limit reached: {self._tpm} tokens per {self._window.seconds:g} s",
                        wait,
                    )
        return None

    def _limited(self, message: str, wait: float | None) -> JSONResponse:
        # Called with the lock held.
        self._counters.throttled += 1
        return JSONResponse(
            error_body(message, kind="requests", code="rate_limit_exceeded"),
            status_code=429,
            headers=retry_headers(wait),
        )

    def _next_reply(self, body: dict[str, Any]) -> Reply | JSONResponse:
        with self._lock:
            turn = self._script.popleft() if self._script else self._default
            served = self._counters.completions
        if turn is None:
            return self._error(
                400, f"ScriptedOpenAI: the script is exhausted after {served} completions"
            )
        if not callable(turn):
            return turn
        try:
            return turn(body)
        except Exception as exc:  # a broken test callable must show up, not hang the client
            return self._error(500, f"ScriptedOpenAI: the scripted callable raised {exc!r}")

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
        kind = "server_error" if status >= 500 else "invalid_request_error"
        if status == 429:
            kind, code = "requests", code or "rate_limit_exceeded"
        return JSONResponse(
            error_body(message, kind=kind, code=code),
            status_code=status,
            headers=retry_headers(retry_after),
        )
