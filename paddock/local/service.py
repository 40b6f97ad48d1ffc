"""What the example workflows' local services share: request log, pluggable auth, requests
checked against the spec, idempotent writes."""

from __future__ import annotations

import hashlib
import inspect
import json
import threading
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.types import Message, Receive, Scope, Send

from paddock.local.spec_rules import OperationRules, Problem

Verifier = Callable[[Request], "str | Awaitable[str | None] | None"]
"""Checks a request's credentials: returns why it is refused (-> 401), or None to accept.

It may be a plain or an async function. The raw body is at ``request.state.body``, and
``await request.body()`` works too.
"""
Clock = Callable[[], datetime]
_MAX_KEY = 255


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class RecordedRequest:
    """One request as the service received it, before any check ran."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    received_at: datetime
    status: int | None = None
    """The status code the service answered with (None while in flight)."""
    replayed: bool = False
    """True when an Idempotency-Key replay answered it (nothing was changed)."""

    @property
    def authorization(self) -> str | None:
        return self.headers.get("authorization")

    @property
    def json(self) -> Any:
        """The body parsed as JSON, or None when it is empty or not JSON."""
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None


@dataclass
class _Stored:
    fingerprint: str
    status: int
    payload: dict[str, Any]


class HttpProblem(Exception):
    """Ends a handler with a JSON error response (a service-internal control-flow signal)."""

    def __init__(
        self, status: int, error: str, message: str, details: list[Problem] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.payload: dict[str, Any] = {"error": error, "message": message}
        if details:
            self.payload["details"] = details


def _receiver(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _problem(request: Request, exc: Exception) -> Response:
    if isinstance(exc, HttpProblem):
        return JSONResponse(exc.payload, status_code=exc.status)
    assert isinstance(exc, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    message = f"{request.method} {request.url.path}: {exc.detail}"
    return JSONResponse({"error": code, "message": message}, status_code=exc.status_code)


class ScenarioService(ABC):
    """Base of the example workflows' local services.

    A subclass names its spec (``key``) and where it is (``server_prefix``, ``request_rules``),
    lists its routes and seeds its state; this base
    records every request (even refused ones), runs the pluggable ``verify_auth``, checks
    requests against the spec (422 JSON) and makes writes idempotent by ``Idempotency-Key``.
    """

    key: ClassVar[str]

    def __init__(self, *, verify_auth: Verifier | None = None, clock: Clock | None = None) -> None:
        self.verify_auth = verify_auth
        self.clock: Clock = clock or utc_now
        self.prefix = self.server_prefix()
        self._lock = threading.RLock()
        self._log: list[RecordedRequest] = []
        self._replays: dict[str, _Stored] = {}
        self._rules = self.request_rules()
        routes: list[BaseRoute] = self.routes()
        if self.prefix:
            routes = [Mount(self.prefix, routes=routes)]
        self._app = Starlette(
            routes=routes, exception_handlers={HttpProblem: _problem, 404: _problem, 405: _problem}
        )
        self.reset()

    @abstractmethod
    def server_prefix(self) -> str:
        """The path of the spec's server URL; the routes are mounted under it."""

    @abstractmethod
    def request_rules(self) -> dict[str, OperationRules]:
        """What each operation accepts, by operationId, from the service's spec."""

    @abstractmethod
    def routes(self) -> list[BaseRoute]:
        """The service's routes, relative to the spec's server path."""

    @abstractmethod
    def _seed(self) -> None:
        """Reset the service's business state to the scenario's seed data."""

    @property
    @abstractmethod
    def counts(self) -> dict[str, int]:
        """How many records each kind of write created since the last reset."""

    @property
    def app(self) -> ScenarioService:
        """The ASGI application to serve (the service itself)."""
        return self

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, oldest first."""
        with self._lock:
            return list(self._log)

    def requests_for(self, method: str, path: str) -> list[RecordedRequest]:
        """Requests with this method whose path (without the server prefix) starts so."""
        full = self.prefix + path
        return [r for r in self.requests if r.method == method.upper() and r.path.startswith(full)]

    def reset(self) -> None:
        """Back to the seed data, with an empty request log and no stored idempotency keys."""
        with self._lock:
            self._log.clear()
            self._replays.clear()
            self._seed()

    def now(self) -> str:
        return iso(self.clock())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        body = await _read_body(receive)
        record = RecordedRequest(
            method=scope["method"],
            path=scope["path"],
            query=scope.get("query_string", b"").decode("latin-1"),
            headers={k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]},
            body=body,
            received_at=self.clock(),
        )
        with self._lock:
            self._log.append(record)
        scope.setdefault("state", {})["body"] = body
        scope["state"]["record"] = record

        async def send_recorded(message: Message) -> None:
            if message["type"] == "http.response.start":
                record.status = int(message["status"])
            await send(message)

        refusal = await self._refusal(Request(scope, _receiver(body)))
        if refusal is not None:
            response = JSONResponse({"error": "unauthorized", "message": refusal}, status_code=401)
            await response(scope, _receiver(body), send_recorded)
            return
        await self._app(scope, _receiver(body), send_recorded)

    async def _refusal(self, request: Request) -> str | None:
        if self.verify_auth is None:
            return None
        verdict = self.verify_auth(request)
        if inspect.isawaitable(verdict):
            verdict = await verdict
        return None if verdict is None else str(verdict)

    async def parse(self, request: Request, operation_id: str) -> dict[str, Any]:
        """The request's arguments by name (``body`` for the JSON body), or a 422."""
        rules: OperationRules = self._rules[operation_id]
        args, problems = rules.check(
            request.path_params, list(request.query_params.multi_items()), request.state.body
        )
        key = request.headers.get("idempotency-key")
        if key is not None and not 0 < len(key) <= _MAX_KEY:
            problems.append(
                {
                    "location": "header.Idempotency-Key",
                    "message": f"must be 1 to {_MAX_KEY} characters",
                }
            )
        if problems:
            raise HttpProblem(
                422,
                "validation_failed",
                f"{operation_id}: the request does not match the API spec",
                problems,
            )
        return args

    def idempotent(
        self,
        request: Request,
        args: dict[str, Any],
        write: Callable[[], tuple[int, dict[str, Any]]],
    ) -> Response:
        """Run ``write`` once per Idempotency-Key; a replay returns the first response."""
        key = request.headers.get("idempotency-key")
        canonical = json.dumps(
            [request.method, request.url.path, args],
            sort_keys=True,
            separators=(",", ":"),
            default=str,
        )
        fingerprint = hashlib.sha256(canonical.encode()).hexdigest()
        with self._lock:
            stored = self._replays.get(key) if key else None
            if stored is not None:
                if stored.fingerprint != fingerprint:
                    raise HttpProblem(
                        409,
                        "idempotency_key_reused",
                        "this Idempotency-Key was used for a different request",
                    )
                request.state.record.replayed = True
                return JSONResponse(
                    stored.payload,
                    status_code=stored.status,
                    headers={"Idempotent-Replayed": "true"},
                )
            status, payload = write()
            if key:
                self._replays[key] = _Stored(fingerprint, status, payload)
        return JSONResponse(payload, status_code=status)
