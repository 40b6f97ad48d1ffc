"""OAuth2 grants against a real local token endpoint: cache, refresh before expiry, single
flight, rotation, refusals, and SP-API's Login with Amazon exchange declared by an overlay."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from core.catalog import import_document, with_overlays
from core.domain import AuthRequirement, SpecRef, Tool
from core.execution.base import CallContext
from core.execution.http import HttpExecutor
from core.identity import IdentityAuthorizer, StaticSecrets
from core.identity.oauth2 import OAuth2Tokens
from core.identity.scope import secret_name
from tests.identity.backend import GuardedBackend, tool
from tests.identity.token_endpoint import TokenEndpoint, token_server

DATA = Path(__file__).resolve().parents[1] / "data"
SPEC = SpecRef(title="ERP", version="1", source="x", sha256="0", format="openapi-3.0")
SECRET = "paddock/erp/oauth"


def _ctx(step: int = 0) -> CallContext:
    return CallContext(run_id="run_o", step_index=step, call_index=0)


def _tool(base: str, auth: AuthRequirement) -> Tool:
    return tool(base, auth=auth).model_copy(update={"spec": SPEC})


@pytest.fixture()
def endpoint() -> Iterator[TokenEndpoint]:
    with token_server() as found:
        yield found


def _authorizer(secret: dict[str, str], clock: list[float] | None = None) -> IdentityAuthorizer:
    authorizer = IdentityAuthorizer(secrets=StaticSecrets({SECRET: json.dumps(secret)}))
    if clock is not None:
        authorizer.oauth2 = OAuth2Tokens(clock=lambda: clock[0])
    return authorizer


def _refresh_auth(url: str, **extra: str) -> AuthRequirement:
    return AuthRequirement(scheme="oauth2_refresh_token", name="oauth", token_url=url, **extra)


def test_client_credentials_at_the_spec_token_url_cached_until_shortly_before_expiry(
    backend: GuardedBackend, endpoint: TokenEndpoint
) -> None:
    endpoint.expires_in = 120
    now = [1000.0]
    auth = AuthRequirement(
        scheme="oauth2_client_credentials",
        name="oauth",
        scopes=("erp.read",),
        token_url=endpoint.url,
    )
    authorizer = _authorizer({"client_id": "client-1", "client_secret": "cs-1"}, now)
    with HttpExecutor(authorizer=authorizer) as executor:
        executor.execute(_tool(backend.url, auth), {"item_id": "A"}, _ctx())
        now[0] += 59  # 61 s left: still good (margin 60 s)
        executor.execute(_tool(backend.url, auth), {"item_id": "B"}, _ctx())
        now[0] += 2  # inside the margin: refreshed before it expires
        executor.execute(_tool(backend.url, auth), {"item_id": "C"}, _ctx())
    tokens = [s.headers["authorization"] for s in backend.seen]
    assert tokens == ["Bearer at-1", "Bearer at-1", "Bearer at-2"]
    assert [a["grant_type"] for a in endpoint.asked] == ["client_credentials"] * 2
    assert endpoint.asked[0]["scope"] == "erp.read"
    assert endpoint.asked[0]["basic_client"] == "client-1"


def test_refresh_token_grant_follows_rotation(
    backend: GuardedBackend, endpoint: TokenEndpoint
) -> None:
    endpoint.rotate, endpoint.expires_in = True, 100
    now = [1000.0]
    secret = {"client_id": "client-1", "client_secret": "cs-1", "refresh_token": "rt-0"}
    authorizer = _authorizer(secret, now)
    with HttpExecutor(authorizer=authorizer) as executor:
        first = executor.execute(
            _tool(backend.url, _refresh_auth(endpoint.url)), {"item_id": "A"}, _ctx()
        )
        now[0] += 50  # expired as far as the margin goes: refresh with the rotated token
        second = executor.execute(
            _tool(backend.url, _refresh_auth(endpoint.url)), {"item_id": "B"}, _ctx()
        )
    assert (first.status_code, second.status_code) == (200, 200)
    assert [a["refresh_token"] for a in endpoint.asked] == ["rt-0", "rt-1"]
    assert [s.headers["authorization"] for s in backend.seen] == ["Bearer at-1", "Bearer at-2"]


def test_concurrent_calls_share_one_refresh(
    backend: GuardedBackend, endpoint: TokenEndpoint
) -> None:
    endpoint.delay = 0.3  # a slow token endpoint: every caller arrives while it is busy
    secret = {"client_id": "client-1", "client_secret": "cs-1", "refresh_token": "rt-0"}
    authorizer = _authorizer(secret)
    results: list[int | None] = []
    with HttpExecutor(authorizer=authorizer) as executor:
        barrier = threading.Barrier(8)

        def call(index: int) -> None:
            barrier.wait()
            auth = _refresh_auth(endpoint.url)
            found = executor.execute(_tool(backend.url, auth), {"item_id": str(index)}, _ctx(index))
            results.append(found.status_code)

        threads = [threading.Thread(target=call, args=(i,)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
    assert results == [200] * 8
    assert len(endpoint.asked) == 1
    assert authorizer.oauth2.fetches == 1
    assert {s.headers["authorization"] for s in backend.seen} == {"Bearer at-1"}


def test_a_revoked_refresh_token_is_a_clear_error_and_nothing_is_sent(
    backend: GuardedBackend, endpoint: TokenEndpoint
) -> None:
    endpoint.revoke_all()
    secret = {"client_id": "client-1", "client_secret": "cs-1", "refresh_token": "rt-0"}
    with HttpExecutor(authorizer=_authorizer(secret)) as executor:
        result = executor.execute(
            _tool(backend.url, _refresh_auth(endpoint.url)), {"item_id": "A"}, _ctx()
        )
    assert result.error == (
        "authorization failed: token endpoint 127.0.0.1 refused the refresh token of secret "
        f"{SECRET} (invalid_grant): it was revoked or has expired; consent again and store "
        "the new refresh_token there"
    )
    assert not result.retryable
    assert backend.seen == []


def test_a_secret_missing_a_field_names_it_and_where_to_set_it(backend: GuardedBackend) -> None:
    authorizer = IdentityAuthorizer(secrets=StaticSecrets({SECRET: '{"client_id": "c"}'}))
    with HttpExecutor(authorizer=authorizer) as executor:
        result = executor.execute(
            _tool(backend.url, _refresh_auth("https://token.example/t")), {"item_id": "A"}, _ctx()
        )
    assert result.error == (
        f"authorization failed: secret {SECRET} must be JSON with client_id, client_secret, "
        f"refresh_token (missing client_secret, refresh_token); set configuration secret {SECRET}"
    )


def test_the_token_never_appears_in_the_credential_repr(endpoint: TokenEndpoint) -> None:
    tokens = OAuth2Tokens()
    from core.identity.oauth2 import Client

    client = Client("client-1", "cs-1", endpoint.url)
    auth = AuthRequirement(scheme="oauth2_client_credentials", token_url=endpoint.url)
    credential = tokens.token(SECRET, client, auth)
    assert "at-1" not in repr(credential) and "cs-1" not in repr(client)


def test_spapi_login_with_amazon_exchange_declared_by_an_overlay(
    backend: GuardedBackend, endpoint: TokenEndpoint
) -> None:
    document = json.loads((DATA / "specs" / "spapi_vendorOrders.json").read_text())
    overlay = yaml.safe_load((DATA / "overlays" / "spapi_lwa.yaml").read_text())
    tools = import_document(with_overlays(document, [overlay]), base_url=backend.url).tools
    get_orders = next(t for t in tools if t.name == "getPurchaseOrders")
    auth = get_orders.auth
    assert (auth.scheme, auth.token_header, auth.token_prefix, auth.client_auth) == (
        "oauth2_refresh_token",
        "x-amz-access-token",
        "",
        "body",
    )
    assert auth.token_url == "https://api.amazon.com/auth/o2/token"
    name = secret_name(get_orders)
    assert name == "paddock/selling-partner-api-for-retail-procurement-orders/lwa"
    secret = {
        "client_id": "client-1",
        "client_secret": "cs-1",
        "refresh_token": "rt-0",
        "token_url": endpoint.url,  # the local stand-in for api.amazon.com
    }
    authorizer = IdentityAuthorizer(secrets=StaticSecrets({name: json.dumps(secret)}))
    with HttpExecutor(authorizer=authorizer) as executor:
        result = executor.execute(get_orders, {"limit": 5}, _ctx())
    assert result.status_code == 200
    (seen,) = backend.seen
    assert seen.headers["x-amz-access-token"] == "at-1"
    assert "authorization" not in seen.headers
    (asked,) = endpoint.asked
    assert asked == {
        "grant_type": "refresh_token",
        "refresh_token": "rt-0",
        "client_id": "client-1",
        "client_secret": "cs-1",
    }


def test_a_clear_text_token_endpoint_is_refused(backend: GuardedBackend) -> None:
    """The client secret never crosses the network unencrypted (loopback aside, for tests)."""
    secret = {"client_id": "client-1", "client_secret": "cs-1", "refresh_token": "rt-0"}
    with HttpExecutor(authorizer=_authorizer(secret)) as executor:
        result = executor.execute(
            _tool(backend.url, _refresh_auth("http://tokens.example/token")),
            {"item_id": "A"},
            _ctx(),
        )
    assert result.error == (
        "authorization failed: token endpoint http://tokens.example/token is not https; refused"
    )
    assert backend.seen == []
