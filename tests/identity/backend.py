"""A real local HTTP service that checks credentials before answering, and logs everything."""

from __future__ import annotations

import inspect
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.domain import AuthRequirement, Param, ParamLocation, SideEffect, Tool
from paddock.local.servers import LocalServer
from tests.tools import http_tool

Check = Callable[[Request], "str | Awaitable[str | None] | None"]


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    refused: str | None


class GuardedBackend:
    """Answers 200 with what it saw, or 401 with why ``check`` refused the credentials."""

    def __init__(self, check: Check | None = None) -> None:
        self.check = check
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self.app = Starlette(
            routes=[Route("/{rest:path}", self._handle, methods=["GET", "POST", "PUT", "DELETE"])]
        )
        self._server: LocalServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return self._server.url

    def start(self) -> GuardedBackend:
        self._server = LocalServer(self.app, name="guarded-backend").start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()

    async def _handle(self, request: Request) -> Response:
        body = await request.body()
        request.state.body = body
        reason = None
        if self.check is not None:
            verdict = self.check(request)
            reason = await verdict if inspect.isawaitable(verdict) else verdict
        seen = Seen(
            request.method,
            request.scope["raw_path"].decode(),
            request.url.query,
            dict(request.headers),
            body,
            reason,
        )
        with self._lock:
            self.seen.append(seen)
        if reason is not None:
            return JSONResponse({"error": "unauthorized", "message": reason}, status_code=401)
        return JSONResponse({"ok": True, "path": seen.path})

    def accepted(self) -> list[Seen]:
        return [s for s in self.seen if s.refused is None]


def tool(
    base_url: str,
    *,
    name: str = "get_item",
    method: str = "GET",
    path: str = "/items/{item_id}",
    auth: AuthRequirement | None = None,
    side_effect: SideEffect | None = None,
) -> Tool:
    params: list[Param] = [
        Param(arg="item_id", name="item_id", location=ParamLocation.PATH, required=True)
    ]
    if method != "GET":
        params.append(Param(arg="body", name="body", location=ParamLocation.BODY))
    return http_tool(
        name=name,
        operation_id=name,
        description="test tool",
        args_schema={"type": "object"},
        params=tuple(params),
        method=method,
        path=path,
        base_url=base_url,
        side_effect=side_effect or (SideEffect.READ if method == "GET" else SideEffect.WRITE),
        auth=auth or AuthRequirement(),
    )


def sigv4_auth(region: str = "eu-central-1") -> AuthRequirement:
    return AuthRequirement(scheme="aws_sigv4", name="sigv4", service="execute-api", region=region)


def as_dict(value: Any) -> dict[str, Any]:
    assert isinstance(value, dict)
    return value
