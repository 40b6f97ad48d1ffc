"""API keys, bearer tokens and OAuth2 client credentials from a secrets provider."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from core.domain import AuthRequirement, Param, ParamLocation, SpecRef
from core.execution.base import CallContext
from core.execution.http import HttpExecutor
from core.identity import (
    AwsSecretsManager,
    Credential,
    CredentialCache,
    CredentialError,
    EnvSecrets,
    IdentityAuthorizer,
    KeyVaultSecrets,
    StaticSecrets,
)
from core.identity.scope import secret_name
from core.identity.secrets_store import env_name
from paddock.local.servers import LocalServer
from paddock.local.verify import api_key_verifier
from tests.identity.backend import GuardedBackend, tool

SPEC = SpecRef(title="Supplier Risk API", version="1", source="x", sha256="0", format="openapi-3.1")


def _ctx() -> CallContext:
    return CallContext(run_id="run_s", step_index=0, call_index=0)


def _tool(base: str, auth: AuthRequirement) -> Any:
    return tool(base, auth=auth).model_copy(update={"spec": SPEC})


API_KEY = AuthRequirement(
    scheme="api_key", name="apiKey", location="header", param_name="X-Api-Key"
)


def test_secret_names_are_stable_per_api_and_scheme(backend: GuardedBackend) -> None:
    name = secret_name(_tool(backend.url, API_KEY))
    assert name == "paddock/supplier-risk-api/apikey"
    assert env_name(name) == "PADDOCK_SECRET_SUPPLIER_RISK_API_APIKEY"
    assert KeyVaultSecrets.vault_name(name) == "paddock-supplier-risk-api-apikey"


def test_api_key_from_the_environment(backend: GuardedBackend) -> None:
    backend.check = api_key_verifier(lambda: "k-123", header="X-Api-Key")
    env = {"PADDOCK_SECRET_SUPPLIER_RISK_API_APIKEY": "k-123"}
    with HttpExecutor(authorizer=IdentityAuthorizer(secrets=EnvSecrets(env))) as executor:
        result = executor.execute(_tool(backend.url, API_KEY), {"item_id": "A"}, _ctx())
    assert result.status_code == 200


def test_a_missing_secret_sends_nothing(backend: GuardedBackend) -> None:
    with HttpExecutor(authorizer=IdentityAuthorizer(secrets=EnvSecrets({}))) as executor:
        result = executor.execute(_tool(backend.url, API_KEY), {"item_id": "A"}, _ctx())
    assert result.error == (
        "authorization failed: secret paddock/supplier-risk-api/apikey is not set: "
        "set environment variable PADDOCK_SECRET_SUPPLIER_RISK_API_APIKEY"
    )
    assert backend.seen == []


def test_api_key_in_the_query(backend: GuardedBackend) -> None:
    auth = AuthRequirement(scheme="api_key", name="key", location="query", param_name="key")
    secrets = StaticSecrets({"paddock/supplier-risk-api/key": "q-1"})
    with HttpExecutor(authorizer=IdentityAuthorizer(secrets=secrets)) as executor:
        result = executor.execute(_tool(backend.url, auth), {"item_id": "A"}, _ctx())
    assert result.status_code == 200 and backend.seen[0].query == "key=q-1"


def test_bearer_token_from_configuration(backend: GuardedBackend) -> None:
    backend.check = api_key_verifier(lambda: "Bearer b-9", header="Authorization")
    auth = AuthRequirement(scheme="bearer", name="bearerAuth")
    secrets = StaticSecrets({"paddock/supplier-risk-api/bearerauth": "b-9"})
    with HttpExecutor(authorizer=IdentityAuthorizer(secrets=secrets)) as executor:
        result = executor.execute(_tool(backend.url, auth), {"item_id": "A"}, _ctx())
    assert result.status_code == 200


@pytest.fixture()
def token_endpoint() -> Iterator[tuple[str, list[dict[str, str]]]]:
    asked: list[dict[str, str]] = []

    async def token(request: Request) -> JSONResponse:
        form = dict(await request.form())
        basic = base64.b64decode(request.headers["authorization"].split()[1]).decode()
        asked.append({**{k: str(v) for k, v in form.items()}, "basic": basic})
        if basic != "client-1:cs-1" or form.get("grant_type") != "client_credentials":
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        return JSONResponse(
            {"access_token": f"at-{len(asked)}", "token_type": "Bearer", "expires_in": 600}
        )

    with LocalServer(Starlette(routes=[Route("/token", token, methods=["POST"])])) as server:
        yield server.url + "/token", asked


def test_oauth2_client_credentials_token_is_fetched_once_and_used(
    backend: GuardedBackend, token_endpoint: tuple[str, list[dict[str, str]]]
) -> None:
    url, asked = token_endpoint
    backend.check = api_key_verifier(lambda: "Bearer at-1", header="Authorization")
    auth = AuthRequirement(scheme="oauth2_client_credentials", name="oauth", scopes=("risk.read",))
    config = {"client_id": "client-1", "client_secret": "cs-1", "token_url": url}
    secrets = StaticSecrets({"paddock/supplier-risk-api/oauth": json.dumps(config)})
    with HttpExecutor(authorizer=IdentityAuthorizer(secrets=secrets)) as executor:
        first = executor.execute(_tool(backend.url, auth), {"item_id": "A"}, _ctx())
        second = executor.execute(_tool(backend.url, auth), {"item_id": "B"}, _ctx())
    assert (first.status_code, second.status_code) == (200, 200)
    assert asked == [
        {"grant_type": "client_credentials", "scope": "risk.read", "basic": "client-1:cs-1"}
    ]


def test_oauth2_refusal_is_a_clear_error(
    backend: GuardedBackend, token_endpoint: tuple[str, list[dict[str, str]]]
) -> None:
    url, _ = token_endpoint
    auth = AuthRequirement(scheme="oauth2_client_credentials", name="oauth")
    config = {"client_id": "client-1", "client_secret": "wrong", "token_url": url}
    secrets = StaticSecrets({"paddock/supplier-risk-api/oauth": json.dumps(config)})
    with HttpExecutor(authorizer=IdentityAuthorizer(secrets=secrets)) as executor:
        result = executor.execute(_tool(backend.url, auth), {"item_id": "A"}, _ctx())
    assert result.error == (
        "authorization failed: token endpoint 127.0.0.1 refused the client of secret "
        "paddock/supplier-risk-api/oauth (invalid_client): check its client_id and client_secret"
    )
    assert backend.seen == []


def test_cache_reuses_until_shortly_before_expiry() -> None:
    now = [1000.0]
    cache = CredentialCache(margin=60, clock=lambda: now[0])
    fetched: list[int] = []

    def fetch() -> Credential:
        fetched.append(1)
        return Credential(
            secret={"token": f"t{len(fetched)}"}, source="test", expires_at=now[0] + 900
        )

    key = ("entra", "api://a/.default", "")
    assert cache.get(key, fetch).secret["token"] == "t1"
    now[0] += 839
    assert cache.get(key, fetch).secret["token"] == "t1"
    now[0] += 2  # inside the 60 s margin before expiry
    assert cache.get(key, fetch).secret["token"] == "t2"
    assert cache.get(("entra", "api://b/.default", ""), fetch).secret["token"] == "t3"


@pytest.mark.emulators
def test_api_key_from_aws_secrets_manager(
    aws_client: Callable[[str], Any], backend: GuardedBackend
) -> None:
    client = aws_client("secretsmanager")
    client.create_secret(Name="paddock/supplier-risk-api/apikey", SecretString="sm-key-1")
    backend.check = api_key_verifier(lambda: "sm-key-1", header="X-Api-Key")
    provider = AwsSecretsManager(client)
    with HttpExecutor(authorizer=IdentityAuthorizer(secrets=provider)) as executor:
        result = executor.execute(_tool(backend.url, API_KEY), {"item_id": "A"}, _ctx())
        client.delete_secret(
            SecretId="paddock/supplier-risk-api/apikey", ForceDeleteWithoutRecovery=True
        )
        missing = AwsSecretsManager(client).get_secret
        with pytest.raises(CredentialError, match="unavailable from Secrets Manager"):
            missing("paddock/supplier-risk-api/apikey")
    assert result.status_code == 200


def test_local_bearer_scheme_round_trip(backend: GuardedBackend) -> None:
    from paddock.local.identity import LocalIdentity

    bearer_tool = _tool(backend.url, AuthRequirement(scheme="bearer", name="bearerAuth"))
    mine, other = LocalIdentity(), LocalIdentity()
    backend.check = mine.verifier_for(bearer_tool)
    with (
        HttpExecutor(authorizer=mine.authorizer()) as good,
        HttpExecutor(authorizer=other.authorizer()) as bad,
    ):
        assert good.execute(bearer_tool, {"item_id": "A"}, _ctx()).status_code == 200
        refused = bad.execute(bearer_tool, {"item_id": "A"}, _ctx())
    assert (
        refused.error is not None
        and "secret paddock/supplier-risk-api/bearerauth is not configured" in refused.error
    )


def test_a_cookie_api_key_joins_the_calls_own_cookies(backend: GuardedBackend) -> None:
    auth = AuthRequirement(scheme="api_key", name="apiKey", location="cookie", param_name="sid")
    base = _tool(backend.url, auth)
    session = Param(arg="lang", name="lang", location=ParamLocation.COOKIE)
    binding = base.binding.model_copy(update={"params": (*base.binding.params, session)})
    secrets = StaticSecrets({"paddock/supplier-risk-api/apikey": "k-1"})
    with HttpExecutor(authorizer=IdentityAuthorizer(secrets=secrets)) as executor:
        result = executor.execute(
            base.model_copy(update={"binding": binding}), {"item_id": "A", "lang": "en"}, _ctx()
        )
    assert result.status_code == 200
    assert backend.seen[0].headers["cookie"] == "lang=en; sid=k-1"
