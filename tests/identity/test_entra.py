"""Entra: azure-identity's managed-identity credential against a local issuer on 127.0.0.1;
each token is for one audience, and a service accepts only its own."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from core.domain import AuthRequirement
from core.execution.base import CallContext
from core.execution.http import HttpExecutor
from core.identity import IdentityAuthorizer
from paddock.local.identity import LocalIdentity
from paddock.local.verify import check_jwt
from tests.identity.backend import GuardedBackend, tool

ERP = "api://paddock-erp"


@pytest.fixture()
def local() -> Iterator[LocalIdentity]:
    with LocalIdentity() as identity:
        yield identity


@pytest.fixture()
def managed_identity(local: LocalIdentity, monkeypatch: pytest.MonkeyPatch) -> object:
    """A real ``ManagedIdentityCredential``, pointed at the local App Service-style endpoint."""
    from azure.identity import ManagedIdentityCredential

    for name, value in local.managed_identity_env.items():
        monkeypatch.setenv(name, value)
    return ManagedIdentityCredential()


def _entra(audience: str) -> AuthRequirement:
    return AuthRequirement(scheme="entra", name="entra", audience=audience)


def _ctx() -> CallContext:
    return CallContext(run_id="run_e", step_index=0, call_index=0)


def test_managed_identity_token_reaches_the_service_for_its_audience(
    local: LocalIdentity, managed_identity: object, backend: GuardedBackend
) -> None:
    backend.check = local.bearer_verifier(audience=ERP)
    erp_tool = tool(backend.url, auth=_entra(ERP))
    authorizer = IdentityAuthorizer(entra=managed_identity)  # type: ignore[arg-type]
    with HttpExecutor(authorizer=authorizer) as executor:
        first = executor.execute(erp_tool, {"item_id": "A-1"}, _ctx())
        second = executor.execute(erp_tool, {"item_id": "A-2"}, _ctx())
    assert (first.status_code, second.status_code) == (200, 200), first.body
    token = backend.seen[0].headers["authorization"].removeprefix("Bearer ")
    assert check_jwt(token, local.issuer.jwks(), issuer=local.issuer.issuer, audience=ERP) is None
    assert len(authorizer.cache) == 1  # one token per audience, reused


def test_a_token_for_another_audience_is_refused(
    local: LocalIdentity, managed_identity: object, backend: GuardedBackend
) -> None:
    backend.check = local.bearer_verifier(audience=ERP)
    # A tool that claims another audience but points at the ERP: its token is useless there.
    misdirected = tool(backend.url, auth=_entra("api://paddock-crm"))
    authorizer = IdentityAuthorizer(entra=managed_identity)  # type: ignore[arg-type]
    with HttpExecutor(authorizer=authorizer) as executor:
        result = executor.execute(misdirected, {"item_id": "A-1"}, _ctx())
    assert result.status_code == 401
    assert result.body["message"] == f"token is not for audience {ERP}"


def test_the_endpoint_mints_only_for_the_resource_asked(local: LocalIdentity) -> None:
    endpoint = local.managed_identity_env
    answer = httpx.get(
        endpoint["IDENTITY_ENDPOINT"],
        params={"resource": ERP, "api-version": "2019-08-01"},
        headers={"X-IDENTITY-HEADER": endpoint["IDENTITY_HEADER"]},
    )
    token = answer.json()["access_token"]
    jwks = local.issuer.jwks()
    assert check_jwt(token, jwks, issuer=local.issuer.issuer, audience=ERP) is None
    assert (
        check_jwt(token, jwks, issuer=local.issuer.issuer, audience="api://paddock-aws")
        == "token is not for audience api://paddock-aws"
    )
    refused = httpx.get(
        endpoint["IDENTITY_ENDPOINT"],
        params={"resource": ERP},
        headers={"X-IDENTITY-HEADER": "guess"},
    )
    assert refused.status_code == 401


def test_tokens_from_another_issuer_or_expired_are_refused(local: LocalIdentity) -> None:
    from paddock.local.issuer import LocalIssuer

    stranger = LocalIssuer(issuer=local.issuer.issuer)  # same name, other key
    forged = stranger.token("x", "t", audience=ERP)
    jwks = local.issuer.jwks()
    assert (
        check_jwt(forged, jwks, issuer=local.issuer.issuer, audience=ERP)
        == "token signed by an unknown key"
    )
    expired = local.issuer.token("x", "t", audience=ERP, expires_in=-60)
    assert check_jwt(expired, jwks, issuer=local.issuer.issuer, audience=ERP) == "token expired"


def test_the_local_credential_names_one_audience_per_token(
    local: LocalIdentity, backend: GuardedBackend
) -> None:
    backend.check = local.bearer_verifier(audience=ERP)
    authorizer = local.authorizer()
    with HttpExecutor(authorizer=authorizer) as executor:
        ok = executor.execute(tool(backend.url, auth=_entra(ERP)), {"item_id": "A"}, _ctx())
        no = executor.execute(
            tool(backend.url, auth=_entra("api://other")), {"item_id": "A"}, _ctx()
        )
    assert (ok.status_code, no.status_code) == (200, 401)
    assert local.entra.issued == [ERP, "api://other"]


def test_an_entra_tool_without_an_audience_gets_no_token(
    local: LocalIdentity, backend: GuardedBackend
) -> None:
    with HttpExecutor(authorizer=local.authorizer()) as executor:
        result = executor.execute(
            tool(backend.url, auth=AuthRequirement(scheme="entra")), {"item_id": "A"}, _ctx()
        )
    assert result.error is not None and "names no audience" in result.error
    assert backend.seen == []
