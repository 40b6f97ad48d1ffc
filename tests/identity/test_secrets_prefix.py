"""PADDOCK_SECRETS=aws reads a stack's secrets under PADDOCK_SECRETS_PREFIX (what infra sets)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from core.identity import CredentialError
from core.identity.setup import identity_from_env

NAME = "paddock/supplier-risk-api/apikey"


@pytest.mark.emulators
def test_configured_worker_reads_only_under_its_prefix(
    aws_client: Callable[[str], Any], moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = aws_client("secretsmanager")
    client.create_secret(Name=f"stack-a/{NAME}", SecretString="key-of-a")
    client.create_secret(Name=f"stack-b/{NAME}", SecretString="key-of-b")
    client.create_secret(Name="other/only", SecretString="not-a-paddock-secret")
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", moto_endpoint)
    try:
        env = {"PADDOCK_SECRETS": "aws", "AWS_REGION": client.meta.region_name}
        a = identity_from_env({**env, "PADDOCK_SECRETS_PREFIX": "stack-a/"}, cloud="aws")
        b = identity_from_env({**env, "PADDOCK_SECRETS_PREFIX": "stack-b/"}, cloud="aws")
        unprefixed = identity_from_env(env, cloud="aws")
        assert a.authorizer.secrets is not None and b.authorizer.secrets is not None
        assert a.authorizer.secrets.get_secret(NAME) == "key-of-a"
        assert b.authorizer.secrets.get_secret(NAME) == "key-of-b"
        assert unprefixed.authorizer.secrets is not None
        with pytest.raises(CredentialError, match=f"secret {NAME} unavailable"):
            unprefixed.authorizer.secrets.get_secret(NAME)
    finally:
        for secret in (f"stack-a/{NAME}", f"stack-b/{NAME}", "other/only"):
            client.delete_secret(SecretId=secret, ForceDeleteWithoutRecovery=True)
