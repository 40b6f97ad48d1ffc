"""The one request handler: ``ApiRequest`` in, ``ApiResponse`` out, never a stack trace."""

from __future__ import annotations

import json
import logging
import math
import re
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel, ValidationError

from core.api.errors import ApiError, from_paddock_error, not_found
from core.api.http import ApiRequest, ApiResponse, json_response
from core.api.models import MAX_BODY_BYTES
from core.api.router import PATH_PARAM, Reply, RequestContext, Route, Router
from core.errors import PaddockError

if TYPE_CHECKING:
    from core.api.deps import Deps
    from core.api.service import ApiService

log = logging.getLogger("paddock.api")

CORRELATION_HEADER = "x-correlation-id"
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class Mount(Protocol):
    """A sub-application served under a path prefix of the API (the web console)."""

    def __call__(
        self, api: ApiHandler, request: ApiRequest, correlation_id: str
    ) -> ApiResponse: ...


class ApiHandler:
    """Routes, authenticates, validates and renders. Holds no per-request state.

    Args:
        deps: the process's store, queues, orchestrator and settings.
        router: the route table (default: the API's).
        mounts: sub-applications by path prefix (``/console``), mounted by whoever starts the
            app (``core.entry``); a request under a prefix goes to its mount, not the router.
    """

    def __init__(
        self,
        deps: Deps,
        *,
        router: Router[ApiService] | None = None,
        mounts: Mapping[str, Mount] | None = None,
    ) -> None:
        from core.api.routes import ROUTER
        from core.api.service import ApiService

        self.deps = deps
        self.mounts = dict(mounts or {})
        self.service = ApiService(deps)
        self.router = router or ROUTER

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, *, mounts: Mapping[str, Mount] | None = None
    ) -> ApiHandler:
        """Settings from ``env`` (default: the process environment); clients are built on
        first use, not here."""
        from core.api.deps import Deps
        from core.settings import Settings

        return cls(Deps(Settings.from_env(env)), mounts=mounts)

    def handle(self, request: ApiRequest) -> ApiResponse:
        correlation_id = _correlation_id(request)
        try:
            response = self._dispatch(request, correlation_id)
        except ApiError as exc:
            response = exc.response(correlation_id)
        except PaddockError as exc:
            error = from_paddock_error(exc)
            if error.status >= 500:
                log.exception("request failed", extra={"correlation_id": correlation_id})
            response = error.response(correlation_id)
        except Exception:
            log.exception("unhandled error", extra={"correlation_id": correlation_id})
            response = ApiError(
                500, "internal_error", "internal error; quote the correlation id when reporting it"
            ).response(correlation_id)
        response.headers[CORRELATION_HEADER] = correlation_id
        self.deps.flush_telemetry()  # spans of this request, before the host freezes us
        return response

    def _dispatch(self, request: ApiRequest, correlation_id: str) -> ApiResponse:
        if len(request.body) > MAX_BODY_BYTES:
            raise ApiError(
                413,
                "payload_too_large",
                f"request body is {len(request.body)} bytes; the limit is {MAX_BODY_BYTES}",
            )
        for prefix, mount in self.mounts.items():
            if request.path == prefix or request.path.startswith(prefix + "/"):
                return mount(self, request, correlation_id)
        match = self.router.match(request.method, request.path)
        route = match.route
        for name, value in match.params.items():
            if not PATH_PARAM.match(value):
                raise not_found(f"no {name.removesuffix('_id')} {value!r}")
        principal = None
        if route.auth:
            principal = self.deps.authenticator.authenticate(request.header("authorization"))
            principal.require_role(*route.roles)
        ctx = RequestContext(
            request=request,
            principal=principal,
            params=match.params,
            query=_query(route, request.query),
            body=_body(route, request, {"workflows": self.deps.workflows.names()}),
            correlation_id=correlation_id,
        )
        reply: Reply = route.call(self.service, ctx)
        return json_response(reply.status, reply.body, reply.headers)


def _correlation_id(request: ApiRequest) -> str:
    given = request.header(CORRELATION_HEADER)
    if given and _SAFE_ID.match(given):
        return given
    if request.request_id and _SAFE_ID.match(request.request_id):
        return request.request_id
    return uuid.uuid4().hex


def _query(route: Route[Any], query: Mapping[str, str]) -> BaseModel | None:
    if route.query is None:
        if query:
            raise ApiError(
                422,
                "validation_error",
                f"unknown query parameter(s): {', '.join(sorted(query))}",
                details=[
                    {"loc": ["query", k], "msg": "unknown parameter", "type": "extra_forbidden"}
                    for k in sorted(query)
                ],
            )
        return None
    try:
        return route.query.model_validate(dict(query))
    except ValidationError as exc:
        raise _invalid("query", exc) from None


def _body(route: Route[Any], request: ApiRequest, context: dict[str, Any]) -> BaseModel | None:
    raw = request.body
    if route.body is None:
        if raw.strip():
            raise ApiError(422, "validation_error", "this endpoint takes no request body")
        return None
    if not raw.strip():
        if route.body_required:
            raise ApiError(400, "missing_body", "a JSON request body is required")
        return None
    ctype = (request.header("content-type") or "application/json").split(";")[0].strip()
    if ctype.lower() not in ("application/json", "") and not ctype.lower().endswith("+json"):
        raise ApiError(
            415, "unsupported_media_type", f"send the body as application/json, not {ctype}"
        )
    try:
        data = json.loads(raw, parse_constant=_no_constant, parse_float=_finite)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "malformed_json", f"the body is not valid JSON: {exc}") from None
    except RecursionError:
        raise ApiError(400, "malformed_json", "the body is nested too deeply") from None
    if not isinstance(data, dict):
        raise ApiError(
            422, "validation_error", f"the body must be a JSON object, not {type(data).__name__}"
        )
    try:
        return route.body.model_validate(data, context=context)
    except ValidationError as exc:
        raise _invalid("body", exc) from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of range for a number")
    return value


def _invalid(where: str, exc: ValidationError) -> ApiError:
    details = [
        {"loc": [where, *e["loc"]], "msg": e["msg"], "type": e["type"]}
        for e in exc.errors(include_url=False, include_input=False)
    ]
    first = details[0]
    path = ".".join(str(p) for p in first["loc"])
    more = f" (and {len(details) - 1} more)" if len(details) > 1 else ""
    return ApiError(422, "validation_error", f"{path}: {first['msg']}{more}", details=details)
