"""Bearer tokens from the local issuer: 401 for bad tokens, 403 for wrong role or tenant."""

from __future__ import annotations

import json
import urllib.request

import jwt
import pytest

from core.api import ApiHandler, ApiRequest, Deps
from core.api.auth import DEFAULT_OPERATOR_AUDIENCE, authenticator_from_settings
from core.settings import AuthSettings, LocalSettings, Settings
from core.state.memory import MemoryStore
from paddock.local.issuer import LocalIssuer
from paddock.local.servers import free_port
from tests.api.world import World


def _error(response: object) -> tuple[int, str]:
    status = response.status  # type: ignore[attr-defined]
    return status, response.json()["error"]["code"]  # type: ignore[attr-defined]


def test_missing_token_is_401_with_a_bearer_challenge(world: World) -> None:
    response = world.request("GET", "/runs", token=None)
    assert _error(response) == (401, "unauthorized")
    assert response.headers["www-authenticate"].startswith("Bearer")
    basic = world.request(
        "GET", "/runs", token=None, headers={"Authorization": "Basic YWxpY2U6c2VjcmV0"}
    )
    assert _error(basic) == (401, "unauthorized")


@pytest.mark.parametrize("case", ["expired", "garbage", "audience", "issuer", "unsigned"])
def test_bad_tokens_are_401(world: World, case: str) -> None:
    if case == "expired":
        token = world.token(expires_in=-120)  # beyond the 30 s leeway
    elif case == "garbage":
        token = "not.a.jwt"
    elif case == "audience":
        token = world.token(audience="someone-else")
    elif case == "issuer":
        token = world.token(iss="https://evil.example")
    else:
        token = jwt.encode(
            {
                "sub": "mallory",
                "tid": "acme",
                "iss": world.issuer.issuer,
                "aud": "paddock-api",
                "exp": 2_000_000_000,
            },
            key="",
            algorithm="none",
        )
    response = world.request("GET", "/runs", token=token)
    assert _error(response) == (401, "unauthorized"), response.body
    if case == "expired":
        assert response.json()["error"]["message"] == "token expired"


def test_token_signed_by_another_key_is_401_even_with_the_right_issuer_and_kid(
    world: World,
) -> None:
    forger = LocalIssuer(world.issuer.issuer)
    forger.kid = world.issuer.kid
    response = world.request("GET", "/runs", token=forger.token("mallory", "acme", ["admin"]))
    assert _error(response) == (401, "unauthorized")
    assert "signature" in response.json()["error"]["message"]


def test_token_without_tenant_is_403(world: World) -> None:
    response = world.request("GET", "/runs", token=world.token(tid=""))
    assert _error(response) == (403, "forbidden")


def test_other_tenants_run_is_403_even_for_their_admin_but_operators_may_read_it(
    world: World,
) -> None:
    run_id = world.start()
    globex = world.token(sub="eve", tenant="globex")
    assert _error(world.request("GET", f"/runs/{run_id}", token=globex)) == (403, "forbidden")
    assert _error(world.request("POST", f"/runs/{run_id}/cancel", token=globex)) == (
        403,
        "forbidden",
    )
    listing = world.request("GET", "/runs", token=globex, query={"tenant": "acme"})
    assert _error(listing) == (403, "forbidden")
    assert world.request("GET", "/runs", token=globex).json()["runs"] == []
    admin = world.token(sub="root", tenant="globex", roles=["admin"])
    assert _error(world.request("GET", f"/runs/{run_id}", token=admin)) == (403, "forbidden")
    forged = world.token(sub="root", tenant="globex", roles=["platform-operator"])
    assert _error(world.request("GET", f"/runs/{run_id}", token=forged)) == (403, "forbidden")
    assert world.request("GET", f"/runs/{run_id}", token=world.operator_token()).status == 200


def test_approving_needs_the_approver_role(world: World) -> None:
    run_id = world.start()
    world.drain()
    [pending] = world.request("GET", f"/runs/{run_id}").json()["pending_approvals"]
    path = f"/runs/{run_id}/approvals/{pending['id']}"
    response = world.request(
        "POST", path, body={"decision": "approve"}, token=world.token(sub="carol", roles=["admin"])
    )
    assert _error(response) == (403, "forbidden")
    assert "approver" in response.json()["error"]["message"]
    other_tenant = world.token(sub="dave", tenant="globex", roles=["approver"])
    assert _error(
        world.request("POST", path, body={"decision": "approve"}, token=other_tenant)
    ) == (403, "forbidden")
    assert world.store.get_run(run_id).pending_approvals  # still waiting


def test_kill_switch_needs_admin(world: World) -> None:
    body = {"scope": "global", "reason": "incident"}
    approver = world.token(roles=["approver"])
    assert _error(world.request("POST", "/kill-switch", body=body, token=approver)) == (
        403,
        "forbidden",
    )
    assert world.store.kill_reason(tenant="acme", run_id="x") is None


def test_public_endpoints_need_no_token(world: World) -> None:
    assert world.request("GET", "/healthz", token=None).status == 200
    assert world.request("GET", "/openapi.json", token=None).json()["openapi"] == "3.1.0"


def test_plain_http_issuer_is_refused_outside_local_mode(issuer: LocalIssuer) -> None:
    cloud = Settings(auth=AuthSettings(issuer=issuer.issuer), local=LocalSettings(enabled=False))
    api = ApiHandler(
        Deps(cloud, store=MemoryStore(), authenticator=authenticator_from_settings(cloud))
    )
    response = api.handle(
        ApiRequest(
            "GET", "/runs", headers={"Authorization": "Bearer " + issuer.token("alice", "acme")}
        )
    )
    assert _error(response) == (503, "auth_not_configured")
    unset = ApiHandler(Deps(Settings(), store=MemoryStore()))
    assert _error(unset.handle(ApiRequest("GET", "/runs"))) == (503, "auth_not_configured")


def test_unreachable_key_set_is_503_not_401(issuer: LocalIssuer) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    settings = Settings(
        auth=AuthSettings(issuer=issuer.issuer, jwks_url=dead + "/jwks"),
        local=LocalSettings(enabled=True),
    )
    api = ApiHandler(Deps(settings, store=MemoryStore()))
    response = api.handle(
        ApiRequest(
            "GET", "/runs", headers={"Authorization": "Bearer " + issuer.token("alice", "acme")}
        )
    )
    assert _error(response) == (503, "auth_unavailable")


def test_local_issuer_publishes_discovery_and_keys(issuer: LocalIssuer) -> None:
    url = issuer.issuer + "/.well-known/openid-configuration"
    with urllib.request.urlopen(url, timeout=5) as resp:
        config = json.loads(resp.read())
    assert config["issuer"] == issuer.issuer and config["jwks_uri"] == issuer.jwks_url
    client = jwt.PyJWKClient(config["jwks_uri"])
    token = issuer.token("alice", "acme", ["approver"], expires_in=60)
    key = client.get_signing_key_from_jwt(token)
    claims = jwt.decode(token, key.key, algorithms=["RS256"], audience="paddock-api")
    assert (claims["sub"], claims["tid"], claims["roles"]) == ("alice", "acme", ["approver"])


def test_dev_token_is_refused_to_a_dns_rebound_page(issuer: LocalIssuer) -> None:
    import httpx

    asked = {"sub": "mallory", "tenant": "acme", "roles": ["admin"]}
    # A page on another name re-pointed at 127.0.0.1: the socket is loopback, the Host is not.
    rebound = httpx.post(
        issuer.issuer + "/dev/token",
        json=asked,
        timeout=10,
        headers={"host": "rebound.attacker.example"},
    )
    assert rebound.status_code == 403 and "access_token" not in rebound.text
    local = httpx.post(issuer.issuer + "/dev/token", json=asked, timeout=10)
    assert local.status_code == 200 and local.json()["access_token"].count(".") == 2


def test_tenants_cannot_mint_the_platform_operator_role(world: World) -> None:
    """Only the operator issuer grants it: the tenants' issuer signing a token for the operator
    audience, or a tenant token claiming the role, gets no reach across tenants."""
    run_id = world.start()
    minted = world.issuer.token(
        "mallory", "globex", ["platform-operator"], audience=DEFAULT_OPERATOR_AUDIENCE
    )
    assert _error(world.request("GET", f"/runs/{run_id}", token=minted)) == (
        401,
        "unauthorized",
    )
    claimed = world.token(sub="mallory", tenant="globex", roles=["platform-operator", "admin"])
    body = {"scope": "global", "reason": "x"}
    assert _error(world.request("POST", "/kill-switch", body=body, token=claimed)) == (
        403,
        "forbidden",
    )
    wrong_audience = world.operators.token("ops", "platform", ()) if world.operators else ""
    assert _error(world.request("GET", "/runs", token=wrong_audience)) == (401, "unauthorized")
    operator = world.operator_token()
    assert world.request("POST", "/kill-switch", body=body, token=operator).status == 200
    assert world.store.kill_reason(tenant="acme", run_id=run_id) is not None


def test_operator_issuer_sharing_the_tenants_audience_is_refused(issuer: LocalIssuer) -> None:
    settings = Settings(
        auth=AuthSettings(
            issuer=issuer.issuer, operator_issuer=issuer.issuer, operator_audience="paddock-api"
        ),
        local=LocalSettings(enabled=True),
    )
    api = ApiHandler(Deps(settings, store=MemoryStore()))
    token = issuer.token("alice", "acme")
    response = api.handle(ApiRequest("GET", "/runs", headers={"Authorization": "Bearer " + token}))
    assert _error(response) == (503, "auth_not_configured")
    assert "PADDOCK_AUTH_OPERATOR_AUDIENCE" in response.json()["error"]["message"]
