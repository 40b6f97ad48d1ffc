"""The console's request cycle: route, authenticate, check the form, render HTML.

Served by the API handler for every path under ``/console`` (``core.api.handler`` hands them
over), so both cloud adapters and the dev server serve it unchanged. Links are relative, so
the pages work under any prefix (an API stage, the dev server's ``/aws`` or ``/azure``).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from core.api.errors import ApiError
from core.api.http import ApiRequest, ApiResponse
from core.api.router import PATH_PARAM
from core.console.redaction import ConsoleRedactor
from core.console.render import render, static_file
from core.console.session import ConsoleDenied, Session, current_session, read_cookie
from core.errors import ConfigError

if TYPE_CHECKING:
    from core.api.handler import ApiHandler
    from core.console.oidc import OidcClient

log = logging.getLogger("paddock.console")

PREFIX = "console"
MAX_FORM_FIELDS = 20
SECURITY_HEADERS = {
    "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self'; connect-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'",
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    # Not no-referrer: with it, browsers send "Origin: null" on same-origin form posts.
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
}


@dataclass
class Page:
    """One console request: where it is, who sent it, what it posted."""

    request: ApiRequest
    correlation_id: str
    segments: tuple[str, ...]
    """Path segments after ``console``."""
    session: Session | None = None
    form: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    """Route parameters (``run_id``, ``approval_id``), already checked against
    ``PATH_PARAM``."""
    live: bool = False
    """A fragment inserted into the page one level up: its links are relative to that page."""

    @property
    def root(self) -> str:
        """The relative URL of the console's root from this page."""
        depth = len(self.segments) - 1 - int(self.live)
        return "../" * depth if depth > 0 else "./"

    def query(self, name: str) -> str | None:
        value = self.request.query.get(name)
        return value if value else None


Handler = Callable[["Console", Page], ApiResponse]


@dataclass(frozen=True)
class ConsoleRoute:
    method: str
    pattern: tuple[str, ...]
    call: Handler
    signed_in: bool = True
    live: bool = False
    """A fragment polled by script: answers 401 instead of redirecting to the sign-in page."""

    def bind(self, segments: tuple[str, ...]) -> dict[str, str] | None:
        if len(segments) != len(self.pattern):
            return None
        params: dict[str, str] = {}
        for want, got in zip(self.pattern, segments, strict=True):
            if want.startswith("{"):
                if not PATH_PARAM.match(got):
                    return None
                params[want[1:-1]] = got
            elif want != got:
                return None
        return params


class Console:
    """Serves ``/console/...`` with the API's own service, authenticator and store."""

    def __init__(self, api: ApiHandler) -> None:
        from core.console.pages import ROUTES

        self.deps = api.deps
        self.service = api.service
        self.routes = ROUTES

    @functools.cached_property
    def redact(self) -> ConsoleRedactor:
        """The telemetry redaction settings, built on first use (the import is not cheap)."""
        return ConsoleRedactor.from_settings(self.deps.settings.telemetry, cloud=self.deps.cloud)

    def handle(self, request: ApiRequest, correlation_id: str) -> ApiResponse:
        parts = tuple(request.path.strip("/").split("/"))[1:]
        if not parts:
            return redirect("console/inbox" if not request.path.endswith("/") else "inbox")
        page = Page(request=request, correlation_id=correlation_id, segments=parts)
        try:
            response = self._dispatch(page)
        except ConsoleDenied as exc:
            response = self.error(page, exc.status, exc.message)
        except ApiError as exc:
            response = self.error(page, exc.status, exc.message)
        except Exception:
            log.exception("console error", extra={"correlation_id": correlation_id})
            response = self.error(
                page,
                500,
                "Something went wrong. Quote the correlation id "
                f"{correlation_id} when reporting it.",
            )
        for key, value in SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)
        return response

    def _dispatch(self, page: Page) -> ApiResponse:
        if page.segments[0] == "static" and len(page.segments) == 2:
            return self._static(page.segments[1])
        method = page.request.method.upper()
        allowed = []
        for route in self.routes:
            params = route.bind(page.segments)
            if params is None:
                continue
            if route.method != method:
                allowed.append(route.method)
                continue
            return self._run(route, page, params)
        if allowed:
            raise ConsoleDenied(405, f"{method} is not allowed here.")
        raise ConsoleDenied(404, "There is no such page in the console.")

    @functools.cached_property
    def oidc(self) -> OidcClient | None:
        """The OpenID Connect sign-in, when ``settings.console`` configures one."""
        settings = self.deps.settings
        if not settings.console.oidc:
            return None
        from core.console.oidc import OidcClient

        return OidcClient(settings.console, secure=not settings.local.enabled)

    def _session(self, request: ApiRequest) -> Session | None:
        """A session this console signed (OIDC sign-in), else a pasted token's."""
        if self.deps.settings.console.oidc:
            value = read_cookie(request)
            principal = self.oidc.session(value) if self.oidc is not None else None
            if principal is not None and value is not None:
                return Session(principal=principal, token=value)
        return current_session(request, self.deps.authenticator)

    def _run(self, route: ConsoleRoute, page: Page, params: dict[str, str]) -> ApiResponse:
        try:
            page.session = self._session(page.request)
        except ApiError as exc:
            if exc.status not in (401, 403) and route.signed_in:
                raise  # e.g. 503: the issuer's keys cannot be fetched
            page.session = None  # an expired, foreign or tenantless token: sign in again
        if route.signed_in and page.session is None:
            if route.live:
                return html(401, b"signed out")
            if route.method == "GET":
                return redirect(page.root + "signin")
            raise ConsoleDenied(401, "Your session has ended. Sign in again.")
        if route.method == "POST":
            page.form = _form(page.request)
        page.params = params
        page.live = route.live
        return route.call(self, page)

    def _static(self, name: str) -> ApiResponse:
        found = static_file(name)
        if found is None:
            raise ConsoleDenied(404, "No such file.")
        body, ctype = found
        return ApiResponse(
            200, {"content-type": ctype, "cache-control": "public, max-age=300"}, body
        )

    # -- rendering ------------------------------------------------------------------------

    def page(
        self, page: Page, template: str, http_status: int = 200, **context: Any
    ) -> ApiResponse:
        from core.console.session import dev_sign_in_allowed

        principal = page.session.principal if page.session else None
        body = render(
            template,
            root=page.root,
            user=principal,
            csrf=page.session.csrf if page.session else "",
            local_mode=dev_sign_in_allowed(self.deps.settings),
            correlation_id=page.correlation_id,
            **context,
        )
        return html(http_status, body)

    def error(self, page: Page, status: int, message: str) -> ApiResponse:
        try:
            message = self.redact.text(message)  # an API error may quote run data
        except ConfigError:
            status, message = (
                500,
                (
                    "The console cannot show run data: the redaction settings "
                    "(PADDOCK_REDACT_PATTERNS) are invalid."
                ),
            )
        return self.page(
            page,
            "error.html",
            status,
            title=_TITLES.get(status, "Error"),
            message=message,
            code=status,
        )


_TITLES = {
    401: "Sign in again",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed",
    409: "Not applied",
    422: "Check the form",
    500: "Error",
}


def html(status: int, body: bytes, headers: dict[str, str] | None = None) -> ApiResponse:
    out = {"content-type": "text/html; charset=utf-8"}
    out.update(headers or {})
    return ApiResponse(status, out, body)


def redirect(location: str, headers: dict[str, str] | None = None) -> ApiResponse:
    """``303 See Other`` to a relative URL (after a form post: reload shows, never resends)."""
    return ApiResponse(303, {"location": location, **(headers or {})}, b"")


def _form(request: ApiRequest) -> dict[str, str]:
    ctype = (request.header("content-type") or "").split(";")[0].strip().lower()
    if ctype != "application/x-www-form-urlencoded":
        raise ConsoleDenied(415, "Send the form as application/x-www-form-urlencoded.")
    try:
        fields = parse_qs(
            request.body.decode("utf-8"),
            keep_blank_values=True,
            max_num_fields=MAX_FORM_FIELDS,
            strict_parsing=False,
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise ConsoleDenied(400, "The form could not be read.") from exc
    return {k: v[0] for k, v in fields.items() if v}
