"""A real HTTP backend for executor tests: records every request, answers from a script."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from core.domain import Param, ParamLocation, SideEffect, Tool
from tests.tools import http_tool

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]


@dataclass(frozen=True)
class Seen:
    """One request as the server received it (raw path: exactly what went on the wire)."""

    method: str
    raw_path: str
    query: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Reply:
    status: int = 200
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    text: str | None = None
    delay: float = 0.0
    stream_bytes: int = 0
    """Stream this many bytes in chunks with no Content-Length."""


class Backend:
    """Scripts replies per raw path; a path's last reply repeats once the script runs out."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self._scripts: dict[str, list[Reply]] = {}
        self._lock = threading.Lock()
        self.app = Starlette(routes=[Route("/{rest:path}", self.handle, methods=METHODS)])

    def reset(self) -> None:
        with self._lock:
            self.seen.clear()
            self._scripts.clear()

    def script(self, path: str, *replies: Reply) -> None:
        with self._lock:
            self._scripts[path] = list(replies)

    def _next(self, path: str) -> Reply | None:
        with self._lock:
            replies = self._scripts.get(path)
            if not replies:
                return None
            return replies.pop(0) if len(replies) > 1 else replies[0]

    async def handle(self, request: Request) -> Response:
        raw_path = request.scope["raw_path"].decode("ascii")
        body = await request.body()
        seen = Seen(request.method, raw_path, request.url.query, dict(request.headers), body)
        with self._lock:
            self.seen.append(seen)
        reply = self._next(raw_path)
        if reply is None:
            return JSONResponse({"method": seen.method, "path": raw_path, "query": seen.query})
        if reply.delay:
            await asyncio.sleep(reply.delay)
        return _render(reply)


def _render(reply: Reply) -> Response:
    if reply.stream_bytes:
        return StreamingResponse(
            _chunks(reply.stream_bytes),
            status_code=reply.status,
            headers=reply.headers,
            media_type="application/json",
        )
    if reply.text is not None:
        return Response(
            reply.text, status_code=reply.status, headers=reply.headers, media_type="text/plain"
        )
    return JSONResponse(reply.json, status_code=reply.status, headers=reply.headers)


async def _chunks(total: int) -> AsyncIterator[bytes]:
    chunk = b"x" * 65536
    sent = 0
    while sent < total:
        piece = chunk[: min(len(chunk), total - sent)]
        sent += len(piece)
        yield piece


def make_tool(
    base_url: str,
    *,
    method: str = "GET",
    path: str = "/things",
    params: tuple[Param, ...] = (),
    side_effect: SideEffect | None = None,
    responses: dict[str, dict[str, Any]] | None = None,
    name: str = "tool",
    body_content_type: str | None = None,
) -> Tool:
    """A tool built directly, as the catalog would build it."""
    if side_effect is None:
        side_effect = SideEffect.READ if method in ("GET", "HEAD") else SideEffect.WRITE
    return http_tool(
        name=name,
        operation_id=name,
        description="test tool",
        args_schema={"type": "object"},
        params=params,
        method=method,
        path=path,
        base_url=base_url,
        body_content_type=body_content_type,
        side_effect=side_effect,
        responses=responses or {},
    )


def param(
    arg: str,
    location: ParamLocation,
    *,
    name: str | None = None,
    required: bool = False,
    style: str | None = None,
    explode: bool | None = None,
) -> Param:
    return Param(
        arg=arg,
        name=name or arg,
        location=location,
        required=required,
        style=style,
        explode=explode,
    )


BODY = param("body", ParamLocation.BODY, required=True)
