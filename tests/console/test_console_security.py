"""Attacks on the console over real HTTP (dev server): login CSRF against both sign-in forms,
and secrets planted in run data that must never reach a page or fragment the console serves."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from core.api.auth import JwtAuthenticator
from core.api.deps import Deps
from core.api.http import ApiRequest
from core.domain import ApprovalStatus, Decision, Run, RunStatus, Verdict
from core.entry import api_handler
from core.errors import ConfigError
from core.settings import Settings, TelemetrySettings
from core.state.base import kill_scope_tenant
from paddock.dev.server import DevServer
from paddock.local.issuer import LocalIssuer
from tests.console.conftest import sign_in, signin_page

PausedRun = Callable[[], dict[str, Any]]
FORMS = ("token", "dev")
"""The two sign-in forms: paste a token, and the local-mode dev sign-in."""


def _form(dev: DevServer, kind: str) -> dict[str, str]:
    """What an attacker posts: a valid token for the attacker's own account, or a dev user."""
    if kind == "token":
        return {"token": dev.issuer.token("mallory@acme.example", "acme", ["approver"])}
    return {"persona": "admin", "tenant": "acme"}


def _assert_refused(client: httpx.Client, response: httpx.Response, says: str) -> None:
    assert response.status_code == 403, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert "<h1>Not allowed</h1>" in response.text and says in response.text
    assert "paddock_console=" not in response.headers.get("set-cookie", "")
    inbox = client.get("/console/inbox")  # the victim's browser is still signed out
    assert inbox.status_code == 303 and inbox.headers["location"] == "./signin"


@pytest.mark.parametrize("kind", FORMS)
@pytest.mark.parametrize(
    ("headers", "says"),
    [
        ({"origin": "https://evil.example"}, "sent from another origin"),
        ({"origin": "null"}, "sent from another origin"),
        ({"sec-fetch-site": "cross-site"}, "sent from another site"),
        ({"sec-fetch-site": "same-site"}, "sent from another site"),  # a sibling subdomain
    ],
    ids=["foreign-origin", "null-origin", "cross-site", "same-site"],
)
def test_a_cross_site_sign_in_is_refused(
    dev: DevServer, kind: str, headers: dict[str, str], says: str
) -> None:
    # Even with the browser's own nonce cookie and form token, the browser's word wins.
    client, csrf = signin_page(dev)
    response = client.post(
        "/console/signin", headers=headers, data={**_form(dev, kind), "csrf": csrf}
    )
    _assert_refused(client, response, says)


@pytest.mark.parametrize("kind", FORMS)
@pytest.mark.parametrize("has_cookie", [False, True], ids=["no-cookie", "own-cookie"])
def test_a_sign_in_without_headers_or_token_is_refused(
    dev: DevServer, kind: str, has_cookie: bool
) -> None:
    # An old browser or a non-browser forgery: no Origin, no Sec-Fetch-Site, no form token.
    client = (
        signin_page(dev)[0] if has_cookie else httpx.Client(base_url=f"{dev.url}/aws", timeout=30)
    )
    response = client.post("/console/signin", data=_form(dev, kind))
    _assert_refused(client, response, "CSRF check failed")


@pytest.mark.parametrize("kind", FORMS)
@pytest.mark.parametrize("has_cookie", [False, True], ids=["no-cookie", "own-cookie"])
def test_a_token_from_another_browser_is_refused(
    dev: DevServer, kind: str, has_cookie: bool
) -> None:
    # The attacker loads the sign-in page in their own browser and puts that page's token in
    # the forged form; the victim's browser has its own nonce cookie, or none at all.
    _, attackers = signin_page(dev)
    victim = (
        signin_page(dev)[0] if has_cookie else httpx.Client(base_url=f"{dev.url}/aws", timeout=30)
    )
    response = victim.post("/console/signin", data={**_form(dev, kind), "csrf": attackers})
    _assert_refused(victim, response, "CSRF check failed")


def test_the_nonce_cookie_itself_is_not_a_form_token(dev: DevServer) -> None:
    # The form carries an HMAC of the cookie, not a copy: a page that learnt the cookie's
    # value (or planted one) still has to compute the token; a naive double submit would pass.
    client, csrf = signin_page(dev)
    nonce = client.cookies["paddock_console_signin"]
    assert nonce != csrf
    response = client.post("/console/signin", data={**_form(dev, "dev"), "csrf": nonce})
    _assert_refused(client, response, "CSRF check failed")
    odd = client.post("/console/signin", data={**_form(dev, "dev"), "csrf": "é" * 43})
    _assert_refused(client, odd, "CSRF check failed")  # not a 500 for a non-ASCII token


def test_the_sign_in_page_keeps_one_nonce_per_browser(dev: DevServer) -> None:
    client, first = signin_page(dev)
    again = client.get("/console/signin")
    assert "set-cookie" not in again.headers  # a second tab keeps the first tab's form valid
    assert f'value="{first}"' in again.text
    odd = httpx.Client(
        base_url=f"{dev.url}/aws", timeout=30, cookies={"paddock_console_signin": "not-a-nonce"}
    )
    fresh = odd.get("/console/signin")
    assert fresh.headers["set-cookie"].startswith("paddock_console_signin=")
    assert "HttpOnly" in fresh.headers["set-cookie"]


# -- redaction --------------------------------------------------------------------------

SECRETS = {
    "openai": "sk-proj-" + "Zq81Lm0PvTr5Wx2NcYb7",
    "aws": "AKIA" + "Q7ZT4LMN2XPV8RWS",
    "jwt": "eyJhbGciOiJSUzI1NiJ9." + "eyJzdWIiOiJtYWxsb3J5In0.U2lnbmF0dXJlUGxhbnRlZA",
    "bearer": "Bearer " + "pl4ntedBearerT0kenVal",
    "iban": "DE89 3704 0044 0532 0130 00",
    "key": "plainlookingvalue",  # only its key names it a secret
}
VISIBLE = {
    "openai": "Zq81Lm0PvTr5Wx2NcYb7",
    "aws": "Q7ZT4LMN2XPV8RWS",
    "jwt": "U2lnbmF0dXJlUGxhbnRlZA",
    "bearer": "pl4ntedBearerT0kenVal",
    "iban": "0532 0130",
    "key": "plainlookingvalue",
}
"""A part of each secret that no masked page may contain."""
TENANT = "vault"


LEAK = " / ".join(secret for name, secret in SECRETS.items() if name != "key")
"""The secrets as a model or a person might echo them into free text."""


def _plant(dev: DevServer, template_run_id: str) -> str:
    """A copy of a paused run, in its own tenant, with secrets in every field the console
    shows: goal, reasons, reasoning, arguments, results, errors, drift, comments, answers."""
    store = dev.deps["aws"].store
    run = store.get_run(template_run_id).model_copy(deep=True)
    run.id = f"{run.id}-planted"
    run.tenant = TENANT
    leak = LEAK
    run.goal = f"Order parts; vendor key {SECRETS['openai']}"
    run.reason = f"waiting: {leak}"
    run.result = f"result {leak}"
    run.error = f"error {leak}"
    for step in run.steps:
        step.reasoning = f"The supplier said to use {leak}"
        step.final_answer = f"done with {leak}"
        step.help_request = f"help me with {leak}"
        step.error = f"step failed: {leak}"
        for call in step.calls:
            call.args = {
                **call.args,
                "note": leak,
                "api_key": SECRETS["key"],
                "nested": [{"iban": SECRETS["iban"]}],
            }
            call.result = {"echo": leak, "password": SECRETS["key"]}
            call.decision = Decision(
                id="d-planted",
                verdict=Verdict.REQUIRE_APPROVAL,
                reasons=[f"amount over limit; model echoed {leak}"],
                rule_ids=["approve-large-orders"],
            )
            call.error = f"call failed: {leak}"
            call.drift = [{"id": "drift-1", "message": f"response changed: {leak}"}]
    pending = run.approvals[0]
    pending.run_id = run.id
    pending.reasons = [f"needs a human: {leak}"]
    pending.reasoning = f"I was told {leak}"
    pending.requested_by = "alice@acme.example"
    decided = pending.model_copy(
        update={
            "id": f"{pending.id}-old",
            "status": ApprovalStatus.REJECTED,
            "decided_by": "bob@acme.example",
            "comment": f"no; it pasted {leak}",
        }
    )
    run.approvals = [pending, decided]
    store.create_run(run)
    store.set_kill(kill_scope_tenant(TENANT), f"frozen after a leak of {leak}")
    return run.id


def test_planted_secrets_never_reach_the_console(dev: DevServer, paused_run: PausedRun) -> None:
    run_id = _plant(dev, paused_run()["run_id"])
    bob = sign_in(dev, "admin", tenant=TENANT)
    pages = {
        path: bob.get(f"/console/{path}")
        for path in (
            "inbox",
            "inbox/live",
            f"runs/{run_id}",
            f"runs/{run_id}/live",
            "runs",
            f"runs?tenant={TENANT}",
            "kill-switch",
        )
    }
    for path, page in pages.items():
        assert page.status_code == 200, (path, page.text)
        for name, secret in VISIBLE.items():
            assert secret not in page.text, f"{name} secret shown on {path}"
    run_page = html.unescape(pages[f"runs/{run_id}"].text)
    # The planted fields were rendered, masked, not dropped.
    for shown in (
        "amount over limit; model echoed [REDACTED]",
        "needs a human: [REDACTED]",
        "The supplier said to use [REDACTED]",
        "response changed: [REDACTED]",
        "no; it pasted [REDACTED]",
        "[IBAN]",
        '"api_key": "[REDACTED]"',
    ):
        assert shown in run_page, shown
    # Who asked and who decided stay readable, and links and forms still carry exact ids.
    assert "rejected</strong> by bob@acme.example" in run_page
    assert "alice@acme.example (tenant vault)" in pages["inbox"].text
    assert f'href="./runs/{run_id}"' in pages["inbox"].text
    assert f'action="../approvals/{run_id}/' in run_page
    assert "needs a human: [REDACTED]" in pages["inbox"].text
    assert "frozen after a leak of [REDACTED]" in pages["kill-switch"].text


def _configured_run_page(settings: Settings) -> tuple[int, str]:
    """The console page of a run whose goal holds a customer id and an e-mail address, and
    whose error holds a key, served in-process with these redaction settings."""
    with LocalIssuer() as issuer:
        auth = JwtAuthenticator(
            issuer=issuer.issuer, audience="paddock-api", jwks_url=issuer.jwks_url
        )
        deps = Deps(settings, authenticator=auth)
        deps.store.create_run(
            Run(
                id="run-configured",
                tenant="acme",
                status=RunStatus.FAILED,
                goal="Refund CUST-204881, ask carol@acme.example",
                error=f"the tool said {SECRETS['openai']}",
            )
        )
        token = issuer.token("bob@acme.example", "acme", ["approver"])
        page = api_handler(deps).handle(
            ApiRequest(
                "GET",
                "/console/runs/run-configured",
                headers={"cookie": f"paddock_console={token}"},
            )
        )
    return page.status, page.body.decode()


def test_the_console_redacts_as_telemetry_is_configured() -> None:
    # The same settings as spans and logs: an extra pattern (customer ids) is masked, and
    # switching personal-data masking off shows e-mail addresses; secrets stay masked.
    env = {"PADDOCK_REDACT_PATTERNS": r"CUST-\d{6}", "PADDOCK_REDACT_PERSONAL": "off"}
    status, body = _configured_run_page(Settings.from_env(env))
    assert status == 200, body
    assert "CUST-204881" not in body and VISIBLE["openai"] not in body
    assert "Refund [REDACTED], ask carol@acme.example" in body


def test_a_bad_redaction_pattern_shows_no_run_data() -> None:
    # A process refuses to start with it; settings made without validation (model_construct)
    # still get an error page from the console, never unredacted data.
    with pytest.raises(ConfigError, match="PADDOCK_REDACT_PATTERNS='\\(': not a regular"):
        Settings.from_env({"PADDOCK_REDACT_PATTERNS": "("})
    unchecked = TelemetrySettings.model_construct(redact_patterns=("(",))
    status, body = _configured_run_page(Settings(telemetry=unchecked))
    assert status == 500
    assert "<h1>Error</h1>" in body and "redaction settings" in body
    assert "CUST-204881" not in body and VISIBLE["openai"] not in body
