"""A tiny typed router: path templates like ``/runs/{run_id}`` matched segment by segment."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import unquote

from pydantic import BaseModel

from core.api.auth import Principal
from core.api.errors import ApiError, not_found
from core.api.http import ApiRequest

S = TypeVar("S")

PATH_PARAM = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
"""What a path parameter (run id, approval id) may look like: safe as a key in every store."""


@dataclass(frozen=True)
class RequestContext:
    """What a route implementation receives: the validated parts of the request."""

    request: ApiRequest
    principal: Principal | None
    params: dict[str, str]
    query: Any
    """An instance of the route's query model (or ``None``)."""
    body: Any
    """An instance of the route's body model (or ``None``)."""
    correlation_id: str

    def caller(self) -> Principal:
        if self.principal is None:
            raise RuntimeError("route is not authenticated")
        return self.principal


@dataclass(frozen=True)
class Reply:
    """What a route returns: the status and a body model (or plain JSON data)."""

    status: int
    body: BaseModel | dict[str, Any] | None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Route(Generic[S]):
    """One operation: its method and path, what it reads, what it returns, who may call it."""

    method: str
    path: str
    operation_id: str
    call: Callable[[S, Any], Reply]
    summary: str
    response: type[BaseModel] | None
    status: int = 200
    body: type[BaseModel] | None = None
    body_required: bool = True
    query: type[BaseModel] | None = None
    auth: bool = True
    roles: tuple[str, ...] = ()
    """The caller needs one of these roles (empty: any authenticated caller)."""
    errors: tuple[int, ...] = ()
    """Error statuses worth documenting besides 400/401/413/422/500."""
    headers: tuple[tuple[str, str], ...] = ()
    """Request headers the route reads: (name, description)."""
    description: str = ""

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(self.path.strip("/").split("/"))

    @property
    def path_params(self) -> list[str]:
        return [s[1:-1] for s in self.segments if s.startswith("{")]


@dataclass(frozen=True)
class Match(Generic[S]):
    route: Route[S]
    params: dict[str, str]


class Router(Generic[S]):
    """Finds the route for a method and path; 404 for an unknown path, 405 for a wrong method."""

    def __init__(self, routes: Sequence[Route[S]]) -> None:
        self.routes = tuple(routes)

    def match(self, method: str, path: str) -> Match[S]:
        parts = tuple(path.strip("/").split("/"))
        allowed: list[str] = []
        for route in self.routes:
            params = _bind(route.segments, parts)
            if params is None:
                continue
            if route.method == method.upper():
                return Match(route, params)
            allowed.append(route.method)
        if allowed:
            raise ApiError(
                405,
                "method_not_allowed",
                f"{method.upper()} is not allowed on {path}",
                headers={"allow": ", ".join(sorted(set(allowed)))},
            )
        raise not_found(f"no such endpoint: {path}")


def _bind(template: tuple[str, ...], parts: tuple[str, ...]) -> dict[str, str] | None:
    if len(template) != len(parts):
        return None
    params: dict[str, str] = {}
    for want, got in zip(template, parts, strict=True):
        if want.startswith("{"):
            if not got:
                return None
            params[want[1:-1]] = unquote(got)
        elif want != got:
            return None
    return params
