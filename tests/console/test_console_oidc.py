"""Console sign-in with OpenID Connect (authorization code + PKCE) over HTTP against a local
provider: Entra- and Cognito-shaped tokens, the session cookie, sign-out, and the attacks the
flow must refuse (another browser's state, a tampered or foreign session, a token for another
client or sign-in)."""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from core.console.oidc import OidcClient, principal_from_claims
from core.console.session import ConsoleDenied
from core.console.signed import seal
from core.settings import ConsoleSettings
from tests.console.oidc_world import CLIENT_ID, SESSION_SECRET, OidcWorld, oidc_world

DATA = Path(__file__).resolve().parents[1] / "data" / "oidc"


@pytest.fixture(scope="module")
def world() -> Iterator[OidcWorld]:
    with oidc_world(
        PADDOCK_CONSOLE_ROLES_CLAIM="roles",
        PADDOCK_CONSOLE_TENANT_CLAIM="tid,custom:tenant",
        PADDOCK_CONSOLE_ROLE_MAP="paddock-admins=admin",
    ) as made:
        yield made


def _browser(world: OidcWorld) -> httpx.Client:
    return httpx.Client(base_url=world.console, timeout=30)


def _to_provider(client: httpx.Client) -> tuple[str, dict[str, str]]:
    """Start a sign-in; the provider's authorization URL and its query."""
    started = client.get("/signin-oidc")
    assert started.status_code == 303, started.text
    flow_cookie = started.headers["set-cookie"]
    assert "HttpOnly" in flow_cookie and "SameSite=Lax" in flow_cookie
    location = started.headers["location"]
    return location, {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def _provider_answer(location: str, query: dict[str, str], login: str) -> dict[str, str]:
    """Choose ``login`` on the provider's page; the query it sends back to the console."""
    page = httpx.get(location, timeout=30)
    assert page.status_code == 200 and f"Sign in as {login}" in page.text
    back = httpx.post(location.split("?")[0], data={**query, "login": login}, timeout=30)
    assert back.status_code == 303
    return {k: v[0] for k, v in parse_qs(urlsplit(back.headers["location"]).query).items()}


def sign_in(world: OidcWorld, login: str) -> tuple[httpx.Client, httpx.Response]:
    client = _browser(world)
    location, query = _to_provider(client)
    answer = _provider_answer(location, query, login)
    return client, client.get("/callback", params=answer)


def test_the_authorization_request_uses_pkce_and_binds_state_and_nonce(world: OidcWorld) -> None:
    client = _browser(world)
    location, query = _to_provider(client)
    assert location.startswith(world.provider.issuer + "/authorize?")
    assert query["response_type"] == "code" and query["client_id"] == CLIENT_ID
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert query["state"] and query["nonce"] and "openid" in query["scope"].split()
    assert client.cookies.get("paddock_console_oidc")  # the flow, signed, in this browser
    assert "code_verifier" not in location  # the verifier goes only to the token endpoint


def test_entra_shaped_user_signs_in_with_roles_and_tenant(world: OidcWorld) -> None:
    client, done = sign_in(world, "bob")
    assert done.status_code == 200 and 'url=inbox"' in done.text
    set_cookie = done.headers["set-cookie"]
    assert "HttpOnly" in set_cookie and "SameSite=Strict" in set_cookie
    inbox = client.get("/inbox")
    assert inbox.status_code == 200
    assert "bob" in inbox.text and "acme" in inbox.text


def test_cognito_shaped_user_gets_mapped_groups_and_custom_tenant(world: OidcWorld) -> None:
    client, done = sign_in(world, "carol")
    assert done.status_code == 200
    kill = client.get("/kill-switch")  # admins only
    assert kill.status_code == 200, kill.text
    assert "globex" in client.get("/inbox").text


def test_a_user_without_a_tenant_is_refused(world: OidcWorld) -> None:
    client, done = sign_in(world, "mallory")
    assert done.status_code == 403
    assert "no Paddock tenant" in done.text
    assert client.get("/inbox", follow_redirects=False).status_code == 303


def test_sign_out_ends_the_session(world: OidcWorld) -> None:
    client, _ = sign_in(world, "bob")
    inbox = client.get("/inbox")
    csrf = re.search(r'name="csrf" value="([^"]+)"', inbox.text)
    assert csrf
    out = client.post("/signout", data={"csrf": csrf.group(1)})
    assert out.status_code == 303 and "Max-Age=0" in out.headers["set-cookie"]
    assert client.get("/inbox", follow_redirects=False).headers["location"].endswith("signin")


def test_an_answer_meant_for_another_browser_is_refused(world: OidcWorld) -> None:
    victim, attacker = _browser(world), _browser(world)
    location, query = _to_provider(attacker)
    answer = _provider_answer(location, query, "bob")
    _to_provider(victim)  # the victim has a flow of its own, with another state
    forced = victim.get("/callback", params=answer)  # login CSRF: attacker's code
    assert forced.status_code == 400
    assert "did not start in this browser" in forced.text
    assert victim.get("/inbox", follow_redirects=False).status_code == 303


def test_a_code_is_redeemed_once(world: OidcWorld) -> None:
    client = _browser(world)
    location, query = _to_provider(client)
    answer = _provider_answer(location, query, "bob")
    assert client.get("/callback", params=answer).status_code == 200
    again = client.get("/callback", params=answer)
    assert again.status_code == 401


def test_a_tampered_or_foreign_session_cookie_is_not_a_session(world: OidcWorld) -> None:
    forged = seal(
        "another-console-secret-0123456789abcdef",
        b"paddock-console-session",
        {"sub": "eve", "tenant": "acme", "roles": ["admin"]},
        seconds=3600,
    )
    client = _browser(world)
    client.cookies.set("paddock_console", forged)
    assert client.get("/inbox", follow_redirects=False).status_code == 303
    genuine, _ = sign_in(world, "bob")
    value = genuine.cookies["paddock_console"]
    body, tag = value.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["roles"] = ["admin"]
    raised = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()
    client.cookies.set("paddock_console", raised.rstrip("=") + "." + tag)
    assert client.get("/kill-switch", follow_redirects=False).status_code == 303


def _settings(world: OidcWorld) -> ConsoleSettings:
    return ConsoleSettings(
        oidc_issuer=world.provider.issuer,
        oidc_client_id=CLIENT_ID,
        oidc_redirect_uri="http://127.0.0.1/cb",
        session_secret=SESSION_SECRET,
    )


def test_an_id_token_for_another_client_or_sign_in_is_refused(world: OidcWorld) -> None:
    client = OidcClient(_settings(world), secure=False)
    client.metadata()
    now = time.time()
    base: dict[str, Any] = {"iss": world.provider.issuer, "sub": "bob", "tid": "acme"}
    times = {"iat": int(now), "exp": int(now) + 600}
    other = world.provider.sign({**base, **times, "aud": "someone-else", "nonce": "n1"})
    with pytest.raises(ConsoleDenied, match=r"(?i)audience"):
        client._validate(other, "n1")
    replayed = world.provider.sign({**base, **times, "aud": CLIENT_ID, "nonce": "n0"})
    with pytest.raises(ConsoleDenied, match="nonce"):
        client._validate(replayed, "n1")
    good = world.provider.sign({**base, **times, "aud": CLIENT_ID, "nonce": "n1"})
    assert client._validate(good, "n1")["sub"] == "bob"


def test_plain_http_providers_are_refused_outside_local_mode() -> None:
    settings = ConsoleSettings(
        oidc_issuer="http://idp.example.com",
        oidc_client_id=CLIENT_ID,
        oidc_redirect_uri="https://paddock.example.com/console/callback",
        session_secret=SESSION_SECRET,
    )
    with pytest.raises(ConsoleDenied, match="https"):
        OidcClient(settings, secure=True)


@pytest.mark.parametrize(
    ("example", "env", "expected"),
    [
        (
            "entra_id_token.json",
            {"PADDOCK_CONSOLE_ROLE_MAP": "Paddock.Approver=approver"},
            ("72f988bf-86f1-41af-91ab-2d7cd011db47", {"approver"}),
        ),
        (
            "cognito_id_token.json",
            {
                "PADDOCK_CONSOLE_ROLES_CLAIM": "cognito:groups",
                "PADDOCK_CONSOLE_TENANT_CLAIM": "custom:tenant",
                "PADDOCK_CONSOLE_ROLE_MAP": "paddock-approvers=approver",
            },
            ("acme", {"approver", "everyone"}),
        ),
    ],
)
def test_documented_token_shapes_map_to_tenant_and_roles(
    example: str, env: dict[str, str], expected: tuple[str, set[str]]
) -> None:
    claims = json.loads((DATA / example).read_text())
    principal = principal_from_claims(claims, ConsoleSettings.from_env(env))
    assert (principal.tenant, set(principal.roles)) == expected
    assert principal.subject == claims["sub"]
