"""The console over real HTTP on the dev server (both adapters), without a browser: sign-in,
roles, CSRF, escaping, kill switches, and what a console request costs a cold start."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from core.api.http import ApiRequest, ApiResponse
from core.entry import api_handler
from paddock.dev.server import DevServer
from paddock.local.issuer import LocalIssuer
from tests.console.conftest import (
    FINISHED,
    ROOT,
    csrf_of,
    run_json,
    sign_in,
    signin_page,
    start_run,
    wait_status,
)

PausedRun = Callable[[], dict[str, Any]]


def _decide_form(client: httpx.Client, run_id: str) -> tuple[str, dict[str, str]]:
    page = client.get(f"/console/runs/{run_id}")
    assert page.status_code == 200
    action = re.search(r'action="([^"]*approvals/[^"]+)"', page.text)
    assert action, "no decision form on the page"
    digest = re.search(r'name="args_hash" value="([^"]+)"', page.text)
    assert digest
    return "/console/" + action.group(1).removeprefix("../"), {
        "csrf": csrf_of(page.text),
        "args_hash": digest.group(1),
    }


def _pending(dev: DevServer, run_id: str) -> list[str]:
    return [a["status"] for a in run_json(dev, run_id)["approvals"] if a["status"] == "pending"]


@pytest.mark.parametrize("prefix", ["/aws", "/azure"])
def test_both_adapters_serve_the_console(dev: DevServer, prefix: str) -> None:
    anonymous = httpx.get(f"{dev.url}{prefix}/console/inbox", timeout=30)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "./signin"
    client = sign_in(dev, "approver", prefix=prefix)
    cookie = client.cookies.jar
    assert any(c.name == "paddock_console" for c in cookie)
    page = client.get("/console/inbox")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert "bob@acme.example" in page.text and "<h1>Approvals</h1>" in page.text
    css = client.get("/console/static/console.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert client.get("/console/static/app.py").status_code == 404  # only the listed files


def test_session_cookie_is_httponly_strict_and_expires_with_the_token(dev: DevServer) -> None:
    client, csrf = signin_page(dev)
    response = client.post(
        "/console/signin", data={"persona": "requester", "tenant": "acme", "csrf": csrf}
    )
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    max_age = int(re.search(r"Max-Age=(\d+)", cookie).group(1))  # type: ignore[union-attr]
    assert 7 * 3600 < max_age <= 8 * 3600  # the dev token's lifetime, not longer


def test_live_fragment_answers_401_when_signed_out(dev: DevServer) -> None:
    response = httpx.get(f"{dev.url}/aws/console/inbox/live", timeout=30)
    assert response.status_code == 401


def test_a_token_from_another_issuer_is_refused_at_sign_in(dev: DevServer) -> None:
    with LocalIssuer() as other:
        other.issuer = dev.issuer.issuer  # claims the right issuer, signed with another key
        forged = other.token("mallory", "acme", ["approver", "admin"])
    client, csrf = signin_page(dev)
    response = client.post("/console/signin", data={"token": forged, "csrf": csrf})
    assert response.status_code == 401
    assert "set-cookie" not in response.headers
    assert "Sign-in failed" in response.text
    # The form shown again still works: sign in with a good token from it.
    retry = client.post(
        "/console/signin", data={"token": dev.tokens()["APPROVER"], "csrf": csrf_of(response.text)}
    )
    assert retry.status_code == 303


def test_a_pasted_bearer_token_signs_in(dev: DevServer) -> None:
    client, csrf = signin_page(dev, prefix="/azure")
    response = client.post(
        "/console/signin", data={"token": "Bearer " + dev.tokens()["APPROVER"], "csrf": csrf}
    )
    assert response.status_code == 303
    assert "bob@acme.example" in client.get("/console/inbox").text


def test_a_forged_cookie_is_not_a_session(dev: DevServer) -> None:
    with LocalIssuer() as other:
        forged = other.token("mallory", "acme", ["admin"])
    response = httpx.get(
        f"{dev.url}/aws/console/runs", timeout=30, cookies={"paddock_console": forged}
    )
    assert response.status_code == 303 and response.headers["location"] == "./signin"


def test_dev_sign_in_is_refused_outside_local_mode() -> None:
    from core.api.deps import Deps
    from core.settings import Settings

    with LocalIssuer() as issuer:
        settings = Settings.from_env(
            {"PADDOCK_AUTH_ISSUER": issuer.issuer, "PADDOCK_LOCAL_MODE": "0"}
        )
        api = api_handler(Deps(settings))
        form = api.handle(ApiRequest("GET", "/console/signin"))
        assert b"Dev sign-in" not in form.body
        cookie, csrf = _signin_form(form)
        posted = api.handle(
            ApiRequest(
                "POST",
                "/console/signin",
                body=f"persona=admin&tenant=acme&csrf={csrf}".encode(),
                headers={"content-type": "application/x-www-form-urlencoded", "cookie": cookie},
            )
        )
    assert posted.status == 403
    assert b"only available in local mode" in posted.body
    assert "set-cookie" not in posted.headers


def test_the_cookie_is_secure_outside_local_mode() -> None:
    from core.api.auth import JwtAuthenticator
    from core.api.deps import Deps
    from core.settings import Settings

    with LocalIssuer() as issuer:
        auth = JwtAuthenticator(
            issuer=issuer.issuer, audience="paddock-api", jwks_url=issuer.jwks_url
        )
        api = api_handler(Deps(Settings.from_env({}), authenticator=auth))
        token = issuer.token("bob", "acme", ["approver"])
        form = api.handle(ApiRequest("GET", "/console/signin"))
        cookie, csrf = _signin_form(form)
        # The sign-in nonce is a __Host- cookie: a sibling subdomain cannot plant one.
        assert cookie.startswith("__Host-paddock_console_signin=")
        assert {"Path=/", "Secure", "HttpOnly", "SameSite=Strict"} <= set(
            form.headers["set-cookie"].split("; ")
        )
        response = api.handle(
            ApiRequest(
                "POST",
                "/console/signin",
                body=f"token={token}&csrf={csrf}".encode(),
                headers={"content-type": "application/x-www-form-urlencoded", "cookie": cookie},
            )
        )
    assert response.status == 303
    assert "; Secure" in response.headers["set-cookie"]


def _signin_form(response: ApiResponse) -> tuple[str, str]:
    """The ``Cookie`` header a browser sends back after this sign-in page, and its token."""
    cookie = response.headers["set-cookie"].split(";")[0]
    return cookie, csrf_of(response.body.decode())


def test_a_requester_cannot_approve_even_with_a_valid_form(
    dev: DevServer, paused_run: PausedRun
) -> None:
    run_id = paused_run()["run_id"]
    alice = sign_in(dev, "requester")
    page = alice.get(f"/console/runs/{run_id}")
    assert "Approve this call" not in page.text  # no buttons ...
    assert "needs the <strong>approver</strong> role" in page.text
    approval = run_json(dev, run_id)["pending_approvals"][0]
    response = alice.post(
        f"/console/approvals/{run_id}/{approval['id']}",
        data={
            "csrf": csrf_of(page.text),
            "decision": "approve",
            "args_hash": approval["args_hash"],
        },
    )
    assert response.status_code == 403  # ... and the server refuses the post itself
    assert "approver role" in response.text
    assert _pending(dev, run_id) == ["pending"]


@pytest.mark.parametrize("attack", ["no-token", "wrong-token", "other-site", "other-origin"])
def test_cross_site_decisions_are_refused(
    dev: DevServer, paused_run: PausedRun, attack: str
) -> None:
    run_id = paused_run()["run_id"]
    bob = sign_in(dev, "approver")
    action, form = _decide_form(bob, run_id)
    headers: dict[str, str] = {}
    if attack == "no-token":
        del form["csrf"]
    elif attack == "wrong-token":
        form["csrf"] = form["csrf"][::-1]
    elif attack == "other-site":
        headers["sec-fetch-site"] = "cross-site"
    else:
        headers["origin"] = "https://evil.example"
    response = bob.post(action, data={**form, "decision": "approve"}, headers=headers)
    assert response.status_code == 403
    assert _pending(dev, run_id) == ["pending"]


def test_a_decision_is_bound_to_the_arguments_shown(dev: DevServer, paused_run: PausedRun) -> None:
    run_id = paused_run()["run_id"]
    bob = sign_in(dev, "approver")
    action, form = _decide_form(bob, run_id)
    response = bob.post(action, data={**form, "args_hash": "0" * 64, "decision": "approve"})
    assert response.status_code == 409
    assert "reload and decide again" in response.text
    assert _pending(dev, run_id) == ["pending"]


def test_approve_then_replay_is_refused(dev: DevServer, paused_run: PausedRun) -> None:
    run_id = paused_run()["run_id"]
    bob = sign_in(dev, "approver", prefix="/azure")
    action, form = _decide_form(bob, run_id)
    first = bob.post(action, data={**form, "decision": "approve", "comment": "within budget"})
    assert first.status_code == 303
    assert first.headers["location"].startswith("../../runs/")
    shown = bob.get("/console/" + first.headers["location"].removeprefix("../../"))
    assert "You approved" in shown.text and "within budget" in shown.text
    again = bob.post(action, data={**form, "decision": "approve"})
    assert again.status_code == 409 and "single-use" in again.text
    view = wait_status(dev, run_id, FINISHED)
    assert view["status"] == "succeeded"


def test_html_in_a_goal_is_shown_as_text(dev: DevServer) -> None:
    run_id = start_run(dev, goal="<script>alert('x')</script> buy bearings")
    page = sign_in(dev, "requester").get(f"/console/runs/{run_id}")
    assert "<script>alert" not in page.text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; buy bearings" in page.text


def test_stopping_a_run_needs_confirmation(dev: DevServer, paused_run: PausedRun) -> None:
    run_id = paused_run()["run_id"]
    alice = sign_in(dev, "requester")
    csrf = csrf_of(alice.get(f"/console/runs/{run_id}").text)
    refused = alice.post(f"/console/runs/{run_id}/kill", data={"csrf": csrf, "reason": "x"})
    assert refused.status_code == 422
    assert run_json(dev, run_id)["status"] == "awaiting_approval"
    done = alice.post(
        f"/console/runs/{run_id}/kill",
        data={"csrf": csrf, "reason": "wrong plant", "confirm": "yes"},
    )
    assert done.status_code == 303
    view = run_json(dev, run_id)
    assert view["status"] == "killed" and "wrong plant" in view["reason"]


def test_the_kill_switch_is_for_admins_and_the_global_flag_for_operators(dev: DevServer) -> None:
    bob = sign_in(dev, "approver")
    page = bob.get("/console/kill-switch")
    assert "needs the <strong>admin</strong> role" in page.text
    refused = bob.post(
        "/console/kill-switch",
        data={
            "csrf": csrf_of(page.text),
            "scope": "tenant",
            "active": "1",
            "reason": "x",
            "confirm": "yes",
        },
    )
    assert refused.status_code == 403
    root = sign_in(dev, "admin")
    page = root.get("/console/kill-switch")
    assert 'value="global"' not in page.text  # a tenant admin has no global flag to raise
    csrf = csrf_of(page.text)
    flag = {"csrf": csrf, "active": "1", "reason": "incident 42", "confirm": "yes"}
    assert root.post("/console/kill-switch", data={**flag, "scope": "global"}).status_code == 403
    raised = root.post("/console/kill-switch", data={**flag, "scope": "tenant"})
    assert raised.status_code == 303
    try:
        assert "incident 42" in root.get("/console/kill-switch").text
        run_id = start_run(dev)
        view = wait_status(dev, run_id, FINISHED)
        assert view["status"] == "killed"
    finally:
        lowered = root.post(
            "/console/kill-switch", data={"csrf": csrf, "scope": "tenant", "active": "0"}
        )
        assert lowered.status_code == 303
    assert "No kill flag covers" in root.get("/console/kill-switch").text


def test_runs_list_filters_by_status(dev: DevServer, paused_run: PausedRun) -> None:
    run_id = paused_run()["run_id"]
    alice = sign_in(dev, "requester")
    waiting = alice.get("/console/runs", params={"status": "awaiting_approval"}).text
    assert run_id in waiting
    succeeded = alice.get("/console/runs", params={"status": "succeeded"}).text
    assert run_id not in succeeded
    other = alice.get("/console/runs", params={"tenant": "globex"})
    assert other.status_code == 403  # another tenant's runs, for a non-admin


def test_console_is_not_loaded_by_api_requests() -> None:
    code = (
        "import json, sys\n"
        "from functions.aws.http_handler import make_handler\n"
        "from core.entry import LazyApi\n"
        "from paddock.dev.bridges import lambda_result\n"
        "from paddock.dev.events import http_api_event, LambdaContext\n"
        "h = make_handler(LazyApi(env={}))\n"
        "r = lambda_result(h(http_api_event('GET', '/healthz'), LambdaContext('x')))\n"
        "before = 'core.console' in sys.modules or 'jinja2' in sys.modules\n"
        "c = lambda_result(h(http_api_event('GET', '/console/signin'), LambdaContext('x')))\n"
        "print(json.dumps([r.status, before, c.status, 'jinja2' in sys.modules]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "POWERTOOLS_METRICS_NAMESPACE": "t"},
    )
    health, console_loaded_early, signin, jinja_loaded = json.loads(
        done.stdout.strip().splitlines()[-1]
    )
    assert health == 200 and console_loaded_early is False
    assert signin == 200 and jinja_loaded is True


@pytest.mark.emulators
def test_approve_through_the_console_on_the_emulators(request: pytest.FixtureRequest) -> None:
    """The same decision with state in DynamoDB (moto) and work on SQS and Azure queues."""
    env = dict(request.getfixturevalue("emulators"))
    request.getfixturevalue("moto_endpoint")  # fake AWS credentials in the environment
    with DevServer(backend="emulators", env=env, poll_seconds=0.05) as dev:
        run_id = start_run(dev)
        view = wait_status(dev, run_id, ("awaiting_approval", *FINISHED))
        assert view["status"] == "awaiting_approval"
        bob = sign_in(dev, "approver", prefix="/azure")
        inbox = bob.get("/console/inbox").text
        assert view["pending_approvals"][0]["id"] in inbox
        action, form = _decide_form(bob, run_id)
        assert bob.post(action, data={**form, "decision": "approve"}).status_code == 303
        assert wait_status(dev, run_id, FINISHED)["status"] == "succeeded"


def test_a_cookie_the_api_no_longer_accepts_leads_back_to_sign_in(dev: DevServer) -> None:
    tenantless = dev.issuer.token("carol@acme.example", "", ["approver"])  # 403 at the API
    expired = dev.issuer.token("bob@acme.example", "acme", ["approver"], expires_in=-3600)
    for token in (tenantless, expired):
        client = httpx.Client(
            base_url=f"{dev.url}/aws", timeout=30, cookies={"paddock_console": token}
        )
        inbox = client.get("/console/inbox")
        assert inbox.status_code == 303 and inbox.headers["location"] == "./signin"
        out = client.post("/console/signout", data={"csrf": ""})
        assert out.status_code == 303 and "Max-Age=0" in out.headers["set-cookie"]


def test_live_fragments_link_relative_to_the_page_they_land_in(
    dev: DevServer, paused_run: PausedRun
) -> None:
    run_id = paused_run()["run_id"]
    bob = sign_in(dev, "approver")
    inbox = bob.get("/console/inbox/live").text  # lands in console/inbox
    assert f'href="./runs/{run_id}"' in inbox and 'data-live="./inbox/live"' in inbox
    run = bob.get(f"/console/runs/{run_id}/live").text  # lands in console/runs/{id}
    assert f'action="../approvals/{run_id}/' in run
    assert f'data-live="../runs/{run_id}/live"' in run


@pytest.mark.parametrize(
    "headers",
    [
        {"host": "rebound.attacker.example:8080", "origin": "http://rebound.attacker.example:8080"},
        {
            "x-forwarded-host": "rebound.attacker.example",
            "origin": "http://rebound.attacker.example",
        },
    ],
)
def test_dev_sign_in_refuses_a_dns_rebound_page(dev: DevServer, headers: dict[str, str]) -> None:
    # A web page whose name was re-pointed at 127.0.0.1 posts the dev sign-in as its own
    # origin (Origin matches Host, so the same-origin check passes, and it can read the form's
    # token from the sign-in page it loaded); it must not get a session.
    client = httpx.Client(base_url=f"{dev.url}/aws", headers=headers, timeout=30)
    csrf = csrf_of(client.get("/console/signin").text)
    response = client.post(
        "/console/signin", data={"persona": "admin", "tenant": "acme", "csrf": csrf}
    )
    assert response.status_code == 403
    assert "only on 127.0.0.1 or localhost" in response.text
    assert "set-cookie" not in response.headers
