"""Event receivers on 127.0.0.1: a webhook endpoint that verifies signatures the way
docs/events.md tells operators to, and an Event Grid-compatible topic endpoint."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from core.events.signing import SignatureError, verify

EVENTGRID_KEY = "local-topic-key-0123456789"


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    path: str

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Answers ``fail_first`` requests with 503, then checks and records the rest.

    ``kind="webhook"``: one structured CloudEvent per request, signed with ``secret``; a
    replayed id within the tolerance is refused (409). ``kind="eventgrid"``: a CloudEvents
    batch with the topic key, as Event Grid's CloudEvents input schema expects.
    """

    kind: str = "webhook"
    secret: str = "webhook-secret-0123456789"
    fail_first: int = 0
    accepted: list[Received] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)
    seen_ids: set[str] = field(default_factory=set)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/hook"

    @property
    def events(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for item in self.accepted:
            data = item.json()
            out.extend(data if isinstance(data, list) else [data])
        return out

    def types(self) -> list[str]:
        return [e["type"].removeprefix("com.paddock.") for e in self.events]

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, str]:
        with self._lock:
            if self.fail_first > 0:
                self.fail_first -= 1
                return 503, "down for maintenance"
            status, why = self._check(path, headers, body)
            if status == 200:
                self.accepted.append(Received(headers, body, path))
            else:
                self.refused.append((status, why))
            return status, why

    def _check(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, str]:
        if self.kind == "eventgrid":
            return _check_eventgrid(path, headers, body)
        try:
            event_id = verify(self.secret, headers, body)
        except SignatureError as exc:
            return 401, str(exc)
        if event_id in self.seen_ids:
            return 409, "replayed"
        if json.loads(body)["id"] != event_id:
            return 400, "webhook-id is not the event's id"
        self.seen_ids.add(event_id)
        return 200, "ok"

    def __enter__(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, text = receiver.handle(self.path, headers, body)
                self.send_response(status)
                self.send_header("content-length", str(len(text)))
                self.end_headers()
                self.wfile.write(text.encode())

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


def _check_eventgrid(path: str, headers: dict[str, str], body: bytes) -> tuple[int, str]:
    """What Event Grid's publish endpoint checks for the CloudEvents schema."""
    query = parse_qs(urlsplit(path).query)
    if query.get("api-version") != ["2018-01-01"]:
        return 400, "api-version missing"
    if headers.get("aeg-sas-key") != EVENTGRID_KEY:
        return 401, "bad key"
    if not headers.get("content-type", "").startswith("application/cloudevents-batch+json"):
        return 415, "not a CloudEvents batch"
    events = json.loads(body)
    required = {"id", "source", "type", "specversion"}
    if not isinstance(events, list) or any(not required <= set(e) for e in events):
        return 400, "events lack required CloudEvents attributes"
    return 200, "ok"
