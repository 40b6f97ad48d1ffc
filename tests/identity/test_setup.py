"""The identity a process gets from its settings: local stand-ins, or the configured sources,
failing closed when a scheme has none."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from core.domain import AuthRequirement, SpecRef
from core.errors import ConfigError
from core.execution.base import CallContext
from core.execution.http import HttpExecutor
from core.identity import EnvSecrets, identity_from_env
from paddock.local.identity import LocalIdentity, local_identity
from tests.identity.backend import GuardedBackend, sigv4_auth, tool

ROLE = "arn:aws:iam::210987654321:role/paddock-azure-workload"


def _ctx() -> CallContext:
    return CallContext(run_id="run_env", step_index=0, call_index=0)


def test_a_local_process_without_settings_gets_labelled_local_identities() -> None:
    identity = identity_from_env({}, cloud="local", local=local_identity)
    assert identity.label == "local"
    assert "local static AWS credentials" in identity.authorizer.sources()["aws_sigv4"]
    assert "local OIDC issuer" in identity.authorizer.sources()["entra"]


def test_a_cloud_worker_without_a_role_fails_closed(backend: GuardedBackend) -> None:
    identity = identity_from_env({}, cloud="aws")
    with HttpExecutor(authorizer=identity.authorizer) as executor:
        result = executor.execute(tool(backend.url, auth=sigv4_auth()), {"item_id": "A"}, _ctx())
    assert result.error == (
        "authorization failed: get_item needs AWS credentials: none "
        "configured (set PADDOCK_AWS_ROLE_ARN)"
    )
    assert backend.seen == []
    assert isinstance(identity.authorizer.secrets, EnvSecrets)


def test_bad_settings_are_one_line_errors() -> None:
    with pytest.raises(ConfigError, match="go together"):
        identity_from_env({"PADDOCK_ENTRA_CLIENT_ID": "c"}, cloud="aws")
    with pytest.raises(ConfigError, match="PADDOCK_SECRETS='vault': choose env, aws or keyvault"):
        identity_from_env({"PADDOCK_SECRETS": "vault"}, cloud="aws")
    with pytest.raises(ConfigError, match="needs PADDOCK_CAPABILITY_KEY_ID"):
        identity_from_env({"PADDOCK_CAPABILITY_KEY": "x"}, cloud="aws")


@pytest.fixture()
def local() -> Iterator[LocalIdentity]:
    with LocalIdentity() as identity:
        yield identity


@pytest.mark.emulators
def test_azure_worker_reaches_aws_by_web_identity(
    local: LocalIdentity,
    moto_endpoint: str,
    backend: GuardedBackend,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Azure -> AWS: a managed-identity token for PADDOCK_AWS_TOKEN_AUDIENCE, exchanged at STS
    (moto) for credentials narrowed to the call; the request arrives signed with them."""
    for name, value in local.managed_identity_env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", moto_endpoint)
    env = {
        "PADDOCK_AWS_ROLE_ARN": ROLE,
        "PADDOCK_AWS_TOKEN_AUDIENCE": "api://paddock-aws",
        "AWS_REGION": "eu-central-1",
    }
    identity = identity_from_env(env, cloud="azure")
    assert identity.authorizer.sources()["aws_sigv4"] == f"sts:AssumeRoleWithWebIdentity {ROLE}"
    with HttpExecutor(authorizer=identity.authorizer) as executor:
        result = executor.execute(tool(backend.url, auth=sigv4_auth()), {"item_id": "A"}, _ctx())
    assert result.status_code == 200
    assert local.minted == ["api://paddock-aws"]
    [seen] = backend.seen
    assert seen.headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=ASIA")
    assert seen.headers["x-amz-security-token"]
    target = identity.authorizer.target
    assert target.account_id == "210987654321"  # the ARN names the role's account


STRIPE_BEARER = AuthRequirement(scheme="bearer", name="bearerAuth")
STRIPE = SpecRef(title="Stripe API", version="1", source="x", sha256="0", format="openapi-3.0")


def _stripe(base: str) -> Any:
    return tool(base, auth=STRIPE_BEARER).model_copy(update={"spec": STRIPE})


def test_env_secrets_are_the_default_without_paddock_secrets(backend: GuardedBackend) -> None:
    env = {"PADDOCK_SECRET_STRIPE_API_BEARERAUTH": "sk_test_from_env"}
    identity = identity_from_env(env, cloud="local", local=local_identity)
    assert identity.label == "local"  # the other local stand-ins stay
    with HttpExecutor(authorizer=identity.authorizer) as executor:
        result = executor.execute(_stripe(backend.url), {"item_id": "A"}, _ctx())
    assert result.status_code == 200
    assert backend.seen[0].headers["authorization"] == "Bearer sk_test_from_env"
    assert identity.authorizer.sources()["secrets"].startswith("environment")


def test_a_missing_secret_names_the_variable_to_set(backend: GuardedBackend) -> None:
    for cloud in ("local", "aws"):
        identity = identity_from_env({}, cloud=cloud, local=local_identity)
        with HttpExecutor(authorizer=identity.authorizer) as executor:
            result = executor.execute(_stripe(backend.url), {"item_id": "A"}, _ctx())
        assert result.error == (
            "authorization failed: secret paddock/stripe-api/bearerauth is not set: "
            "set environment variable PADDOCK_SECRET_STRIPE_API_BEARERAUTH"
        )
    assert backend.seen == []
