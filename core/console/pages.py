"""The console's pages. Each goes through ``ApiService``, the code behind the JSON API, so
tenancy, approval binding and kill semantics are the API's own; roles are checked here too,
as the API's route table checks them, before anything changes."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from core.api.auth import DEV_TOKEN_PATH, ROLE_ADMIN, ROLE_APPROVER, Principal
from core.api.errors import ApiError
from core.api.http import ApiResponse
from core.api.models import (
    ApprovalList,
    ApprovalListQuery,
    CancelRequest,
    DecisionRequest,
    KillSwitchRequest,
    RunAccepted,
    RunList,
    RunListQuery,
    RunView,
    StartRunRequest,
)
from core.api.router import PATH_PARAM, Reply, RequestContext
from core.console.app import Console, ConsoleRoute, Page, redirect
from core.console.session import (
    ConsoleDenied,
    Session,
    check_same_origin,
    check_signin_csrf,
    clear_cookie,
    dev_sign_in_allowed,
    loopback_host,
    session_cookie,
    signin_nonce,
    signin_token,
)
from core.console.signin_oidc import oidc_callback, oidc_start
from core.console.views import inbox_items, locate
from core.domain import RunStatus

M = TypeVar("M", bound=BaseModel)
STATUSES = tuple(s.value for s in RunStatus)
DEV_PERSONAS: dict[str, tuple[str, tuple[str, ...]]] = {
    "requester": ("alice@acme.example", ()),
    "approver": ("bob@acme.example", (ROLE_APPROVER,)),
    "admin": ("root@acme.example", (ROLE_ADMIN, ROLE_APPROVER)),
}
"""The dev sign-in's users: the same three as the dev server's tokens."""


# -- sign-in ----------------------------------------------------------------------------


def signin_form(console: Console, page: Page) -> ApiResponse:
    nonce, cookie = signin_nonce(page.request, secure=_secure(console))
    response = console.page(
        page,
        "signin.html",
        title="Sign in",
        personas=DEV_PERSONAS,
        signin_csrf=signin_token(nonce),
        oidc=console.deps.settings.console.oidc,
    )
    if cookie is not None:
        response.headers["set-cookie"] = cookie
    return response


def signin(console: Console, page: Page) -> ApiResponse:
    # Before anything else, dev sign-in included: a forged post must not even reach the issuer.
    check_signin_csrf(page.request, page.form.get("csrf"), secure=_secure(console))
    settings = console.deps.settings
    persona = page.form.get("persona")
    if persona is not None:
        if not dev_sign_in_allowed(settings):
            raise ConsoleDenied(403, "Dev sign-in is only available in local mode.")
        if not loopback_host(page.request):
            raise ConsoleDenied(403, "Dev sign-in answers only on 127.0.0.1 or localhost.")
        token = _dev_token(settings.auth.issuer or "", persona, page.form.get("tenant") or "acme")
    else:
        token = (page.form.get("token") or "").strip()
        token = token.removeprefix("Bearer ").strip()
    try:
        console.deps.authenticator.authenticate(f"Bearer {token}")
    except ApiError as exc:
        return console.page(
            page,
            "signin.html",
            401 if exc.status == 401 else exc.status,
            title="Sign in",
            personas=DEV_PERSONAS,
            problem=console.redact.text(exc.message),
            signin_csrf=page.form.get("csrf", ""),
            oidc=settings.console.oidc,
        )
    return redirect("inbox", {"set-cookie": session_cookie(token, secure=_secure(console))})


def signout(console: Console, page: Page) -> ApiResponse:
    check_same_origin(page.request)
    if page.session is not None:
        page.session.check_csrf(page.form.get("csrf"))
    return redirect("signin", {"set-cookie": clear_cookie(secure=_secure(console))})


def _secure(console: Console) -> bool:
    """Cookies are ``Secure`` (and the sign-in nonce ``__Host-``) outside local mode."""
    return not console.deps.settings.local.enabled


def _dev_token(issuer: str, persona: str, tenant: str) -> str:
    import json
    import urllib.request

    found = DEV_PERSONAS.get(persona)
    if found is None or not PATH_PARAM.match(tenant):
        raise ConsoleDenied(422, "Choose one of the dev users and a tenant name.")
    sub, roles = found
    body = json.dumps(
        {"sub": sub, "tenant": tenant, "roles": list(roles), "expires_in": 8 * 3600}
    ).encode()
    request = urllib.request.Request(
        issuer.rstrip("/") + DEV_TOKEN_PATH, data=body, headers={"content-type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as resp:
            return str(json.loads(resp.read())["access_token"])
    except (OSError, ValueError, KeyError) as exc:
        raise ConsoleDenied(503, "The local token issuer did not answer.") from exc


# -- approvals --------------------------------------------------------------------------


def inbox(console: Console, page: Page) -> ApiResponse:
    return console.page(
        page,
        "inbox.html",
        title="Approvals",
        nav="inbox",
        inbox=_inbox(console, page),
        can_decide=_can(page, ROLE_APPROVER),
    )


def inbox_live(console: Console, page: Page) -> ApiResponse:
    return console.page(
        page, "inbox_live.html", inbox=_inbox(console, page), can_decide=_can(page, ROLE_APPROVER)
    )


def _inbox(console: Console, page: Page) -> Any:
    reply = console.service.list_approvals(_ctx(page, query=ApprovalListQuery()))
    return inbox_items(console.deps, _body(reply, ApprovalList).approvals, console.redact)


def decide(console: Console, page: Page) -> ApiResponse:
    session = _posted(page)
    run_id, approval_id = page.params["run_id"], page.params["approval_id"]
    session.principal.require_role(ROLE_APPROVER)
    body = _model(
        DecisionRequest,
        decision=page.form.get("decision"),
        comment=page.form.get("comment") or None,
        args_hash=page.form.get("args_hash") or None,
    )
    console.service.decide(_ctx(page, body=body))
    return redirect(f"{page.root}runs/{run_id}?decided={approval_id}")


# -- runs -------------------------------------------------------------------------------


def runs(console: Console, page: Page) -> ApiResponse:
    status = page.query("status")
    tenant = page.query("tenant")
    query = _model(
        RunListQuery,
        status=status if status in STATUSES else None,
        tenant=tenant,
        cursor=page.query("cursor"),
        limit=25,
    )
    listing = console.redact.view(
        _body(console.service.list_runs(_ctx(page, query=query)), RunList)
    )
    return console.page(
        page,
        "runs.html",
        title="Runs",
        nav="runs",
        runs=listing.runs,
        next_cursor=listing.next_cursor,
        statuses=STATUSES,
        status=query.status.value if query.status else "",
        tenant=tenant or "",
        scenarios=console.deps.workflows.names(),
    )


def start_run(console: Console, page: Page) -> ApiResponse:
    _posted(page)
    body = _model(StartRunRequest, scenario=page.form.get("scenario"))
    accepted = _body(console.service.start_run(_ctx(page, body=body)), RunAccepted)
    return redirect(f"{page.root}runs/{accepted.run_id}")


def run_page(console: Console, page: Page) -> ApiResponse:
    view = _run(console, page)
    decided = page.query("decided")
    outcome = next((a for a in view.approvals if a.id == decided), None)
    return console.page(
        page,
        "run.html",
        title=f"Run {view.run_id}",
        nav="runs",
        run=view,
        outcome=outcome,
        **_live(console, page, view),
    )


def run_live(console: Console, page: Page) -> ApiResponse:
    view = _run(console, page)
    return console.page(page, "run_live.html", run=view, **_live(console, page, view))


def kill_run(console: Console, page: Page) -> ApiResponse:
    _posted(page)
    if page.form.get("confirm") != "yes":
        raise ConsoleDenied(422, "Tick the confirmation box to stop the run.")
    reason = (page.form.get("reason") or "").strip() or "stopped from the console"
    console.service.cancel_run(_ctx(page, body=_model(CancelRequest, reason=reason[:500])))
    return redirect(f"{page.root}runs/{page.params['run_id']}")


def _run(console: Console, page: Page) -> RunView:
    return console.redact.view(_body(console.service.get_run(_ctx(page)), RunView))


def _live(console: Console, page: Page, view: RunView) -> dict[str, Any]:
    locations = {}
    if view.pending_approvals:
        run = console.deps.store.get_run(view.run_id)
        for a in view.pending_approvals:
            call = next(
                (
                    c
                    for s in run.steps
                    if s.index == a.step_index
                    for c in s.calls
                    if c.call_id == a.call_id
                ),
                None,
            )
            locations[a.id] = locate(console.deps, run, call, a.tool, console.redact)
    return {
        "locations": locations,
        "can_decide": _can(page, ROLE_APPROVER),
        "final": view.status.finished,
    }


# -- kill switch ------------------------------------------------------------------------


def kill_switch_page(console: Console, page: Page) -> ApiResponse:
    session = _signed_in(page)
    flag = console.redact.text(
        console.deps.store.kill_reason(tenant=session.principal.tenant, run_id="-")
    )
    return console.page(
        page,
        "kill_switch.html",
        title="Kill switch",
        nav="kill",
        flag=flag,
        is_admin=_can(page, ROLE_ADMIN),
    )


def kill_switch(console: Console, page: Page) -> ApiResponse:
    session = _posted(page)
    session.principal.require_role(ROLE_ADMIN)
    active = page.form.get("active") == "1"
    if active and page.form.get("confirm") != "yes":
        raise ConsoleDenied(422, "Tick the confirmation box to stop runs.")
    scope = page.form.get("scope")
    body = _model(
        KillSwitchRequest,
        scope=scope,
        active=active,
        reason=(page.form.get("reason") or "").strip()
        or ("raised from the console" if active else "lowered from the console"),
        tenant=session.principal.tenant if scope == "tenant" else None,
    )
    console.service.kill_switch(_ctx(page, body=body))
    return redirect("kill-switch")


# -- helpers ----------------------------------------------------------------------------


def _signed_in(page: Page) -> Session:
    if page.session is None:
        raise ConsoleDenied(401, "Sign in first.")
    return page.session


def _posted(page: Page) -> Session:
    """The session of a state-changing form post, after the CSRF and origin checks."""
    session = _signed_in(page)
    check_same_origin(page.request)
    session.check_csrf(page.form.get("csrf"))
    return session


def _can(page: Page, role: str) -> bool:
    principal: Principal | None = page.session.principal if page.session else None
    return principal is not None and role in principal.roles


def _ctx(page: Page, *, query: Any = None, body: Any = None) -> RequestContext:
    return RequestContext(
        request=page.request,
        principal=_signed_in(page).principal,
        params=dict(page.params),
        query=query,
        body=body,
        correlation_id=page.correlation_id,
    )


def _body(reply: Reply, model: type[M]) -> M:
    if not isinstance(reply.body, model):
        raise TypeError(f"expected a {model.__name__}, got {type(reply.body).__name__}")
    return reply.body


def _model(model: Any, **values: Any) -> Any:
    try:
        return model.model_validate({k: v for k, v in values.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "form"
        raise ConsoleDenied(422, f"{where}: {first['msg']}") from None


ROUTES: tuple[ConsoleRoute, ...] = (
    ConsoleRoute("GET", ("signin",), signin_form, signed_in=False),
    ConsoleRoute("POST", ("signin",), signin, signed_in=False),
    ConsoleRoute("POST", ("signout",), signout, signed_in=False),
    ConsoleRoute("GET", ("signin-oidc",), oidc_start, signed_in=False),
    ConsoleRoute("GET", ("callback",), oidc_callback, signed_in=False),
    ConsoleRoute("GET", ("inbox",), inbox),
    ConsoleRoute("GET", ("inbox", "live"), inbox_live, live=True),
    ConsoleRoute("POST", ("approvals", "{run_id}", "{approval_id}"), decide),
    ConsoleRoute("GET", ("runs",), runs),
    ConsoleRoute("POST", ("runs",), start_run),
    ConsoleRoute("GET", ("runs", "{run_id}"), run_page),
    ConsoleRoute("GET", ("runs", "{run_id}", "live"), run_live, live=True),
    ConsoleRoute("POST", ("runs", "{run_id}", "kill"), kill_run),
    ConsoleRoute("GET", ("kill-switch",), kill_switch_page),
    ConsoleRoute("POST", ("kill-switch",), kill_switch),
)
