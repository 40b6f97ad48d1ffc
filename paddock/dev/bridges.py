"""Drive the real cloud adapters locally, the way their platforms call them.

``AwsBridge`` turns a request into an API Gateway HTTP API event and calls the Lambda handler
from ``functions/aws``, and hands queue messages to the SQS worker handler as an SQS event.
``AzureBridge`` builds ``func.HttpRequest`` / ``QueueMessage`` objects, picks the function the
Functions host would route to, and calls it. The dev server and the adapter tests use both.
The adapter modules (and so Powertools and azure-functions) are imported when a bridge is made.
"""

from __future__ import annotations

import base64
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from core.api.handler import ApiHandler
from core.api.worker import Worker
from core.queue.base import ReceivedMessage
from paddock.dev.events import LambdaContext, SqsMessage, http_api_event, sqs_event


@dataclass(frozen=True)
class HttpResult:
    status: int
    headers: dict[str, str]
    body: bytes


class AwsBridge:
    """The Lambda handlers of ``functions/aws``, one invocation at a time as Lambda runs them."""

    def __init__(self, api: ApiHandler, worker: Worker | None = None) -> None:
        from functions.aws import http_handler, worker_handler

        self._http: Callable[[dict[str, Any], Any], dict[str, Any]] = http_handler.make_handler(api)
        self._work: Callable[[dict[str, Any], Any], dict[str, Any]] | None = None
        if worker is not None:
            self._work = worker_handler.make_handler(worker)
        self._lock = threading.Lock()

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        """Call the HTTP handler with a ready-made event; returns its raw result."""
        with self._lock:
            return self._http(event, LambdaContext(function_name="paddock-api"))

    def http(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
    ) -> HttpResult:
        result = self.invoke(http_api_event(method, path, query=query, headers=headers, body=body))
        return lambda_result(result)

    def deliver(self, messages: Sequence[ReceivedMessage]) -> set[str]:
        """Hand ``messages`` to the SQS worker as one event; returns the failed message ids."""
        if self._work is None:
            raise RuntimeError("this bridge has no worker")
        event = sqs_event(
            [
                SqsMessage(m.message_id, str(m.receipt), m.envelope.to_json(), m.receive_count)
                for m in messages
            ]
        )
        with self._lock:
            result = self._work(event, LambdaContext(function_name="paddock-worker"))
        return {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}


def lambda_result(result: Mapping[str, Any]) -> HttpResult:
    """Status, headers and body of an API Gateway proxy result."""
    raw = result.get("body") or ""
    body = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode()
    headers = {str(k).lower(): str(v) for k, v in (result.get("headers") or {}).items()}
    for key, values in (result.get("multiValueHeaders") or {}).items():
        headers[str(key).lower()] = ", ".join(str(v) for v in values)
    return HttpResult(int(result["statusCode"]), headers, body)


@dataclass(frozen=True)
class _HttpFunction:
    name: str
    segments: tuple[str, ...]
    methods: frozenset[str]
    call: Callable[..., Any]

    def score(self, method: str, parts: tuple[str, ...]) -> int | None:
        """How specifically this function's route matches (``None``: no match)."""
        if method not in self.methods:
            return None
        if self.segments and self.segments[-1].startswith("{*"):
            return 0 if len(parts) >= len(self.segments) - 1 else None
        if len(parts) != len(self.segments):
            return None
        score = 1
        for want, got in zip(self.segments, parts, strict=True):
            if want.startswith("{"):
                score += 1
            elif want == got:
                score += 2
            else:
                return None
        return score


@dataclass
class _Context:
    invocation_id: str
    function_name: str
    function_directory: str = "."
    trace_context: Any = None
    retry_context: Any = None


class AzureBridge:
    """The function app of ``functions/azure``: HTTP requests routed as the Functions host
    routes them (literal segments before parameters before the catch-all)."""

    def __init__(self, api: ApiHandler, worker: Worker | None = None) -> None:
        from functions.azure.function_app import make_app

        app = make_app(api, worker or Worker(api.deps))
        self._http: list[_HttpFunction] = []
        self._queue: Callable[..., Any] | None = None
        from azure.functions.decorators.http import HttpTrigger

        for fn in app.get_functions():  # may be called once per app: keep what it returns
            binding = fn.get_trigger()
            kind = binding.get_binding_name() if binding is not None else None
            if isinstance(binding, HttpTrigger):
                route = binding.route or fn.get_function_name() or ""
                methods = frozenset(
                    str(getattr(m, "value", m)).upper() for m in (binding.methods or [])
                )
                self._http.append(
                    _HttpFunction(
                        fn.get_function_name() or route,
                        tuple(route.strip("/").split("/")),
                        methods,
                        fn.get_user_function(),
                    )
                )
            elif kind == "queueTrigger":
                self._queue = fn.get_user_function()

    def http(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
        host: str = "127.0.0.1",
    ) -> HttpResult:
        from urllib.parse import urlencode

        import azure.functions as func

        parts = tuple(path.strip("/").split("/"))
        scored = [(fn.score(method.upper(), parts), fn) for fn in self._http]
        matches = [(s, fn) for s, fn in scored if s is not None]
        if not matches:
            return HttpResult(404, {}, b"")  # the host's own answer
        function = max(matches, key=lambda pair: pair[0])[1]
        url = f"http://{host}{path}" + (f"?{urlencode(dict(query))}" if query else "")
        request = func.HttpRequest(
            method.upper(),
            url,
            headers=dict(headers or {}),
            params=dict(query or {}),
            route_params={},
            body=body,
        )
        context = _Context(invocation_id=str(uuid.uuid4()), function_name=function.name)
        response = function.call(request, context)
        return HttpResult(
            response.status_code,
            {k.lower(): v for k, v in response.headers.items()},
            response.get_body(),
        )

    def deliver(self, message: ReceivedMessage) -> None:
        """Run the queue trigger on one message; raises what the function raises."""
        from azure.functions.queue import QueueMessage

        if self._queue is None:
            raise RuntimeError("the function app has no queue trigger")
        self._queue(
            QueueMessage(
                id=message.message_id,  # type: ignore[no-untyped-call]
                body=message.envelope.to_json(),
                dequeue_count=message.receive_count,
                pop_receipt=str(message.receipt),
            )
        )
