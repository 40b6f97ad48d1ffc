"""Where API keys, bearer tokens and client secrets come from: never the spec or the prompt."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

from core.identity.base import CredentialError

if TYPE_CHECKING:
    from azure.keyvault.secrets import SecretClient
    from mypy_boto3_secretsmanager import SecretsManagerClient

_ENV_NAME = re.compile(r"[^A-Z0-9]+")


class SecretsProvider(Protocol):
    """Reads one secret by name (``paddock/<api>/<scheme>``); raises ``CredentialError``."""

    @property
    def label(self) -> str: ...

    def get_secret(self, name: str) -> str: ...


def where_to_set(provider: object, name: str) -> str:
    """Where secret ``name`` is set for ``provider`` (``environment variable PADDOCK_SECRET_X``,
    ``Secrets Manager secret <id>``...), for error messages."""
    where = getattr(provider, "where", None)
    return str(where(name)) if callable(where) else f"secret {name}"


def env_name(name: str) -> str:
    """``paddock/supplier-risk-api/apikey`` -> ``PADDOCK_SECRET_SUPPLIER_RISK_API_APIKEY``."""
    tail = name.removeprefix("paddock/")
    return "PADDOCK_SECRET_" + _ENV_NAME.sub("_", tail.upper()).strip("_")


class EnvSecrets:
    """Secrets from environment variables ``PADDOCK_SECRET_<NAME>`` (local use).

    ``values`` are those variables by name, as the settings read them at start-up
    (``IdentitySettings.secret_values``).
    """

    label = "environment"

    def __init__(self, values: Mapping[str, str] | None = None) -> None:
        self._values = dict(values or {})

    def where(self, name: str) -> str:
        return f"environment variable {env_name(name)}"

    def get_secret(self, name: str) -> str:
        value = self._values.get(env_name(name))
        if not value:
            raise CredentialError(f"secret {name} is not set: set {self.where(name)}")
        return value


class ChainedSecrets:
    """The first provider that has the secret; a secret none has is reported as the first
    provider's error (the place to set it). Local processes read the environment first, then
    the generated local secrets."""

    def __init__(self, *providers: SecretsProvider) -> None:
        if not providers:
            raise ValueError("ChainedSecrets needs at least one provider")
        self._providers = providers

    @property
    def label(self) -> str:
        return ", then ".join(p.label for p in self._providers)

    def where(self, name: str) -> str:
        return where_to_set(self._providers[0], name)

    def get_secret(self, name: str) -> str:
        first: CredentialError | None = None
        for provider in self._providers:
            try:
                return provider.get_secret(name)
            except CredentialError as exc:
                first = first or exc
        assert first is not None
        raise first


class StaticSecrets:
    """Secrets from configuration (a mapping by name); also what local demos use."""

    label = "configuration"

    def __init__(self, values: Mapping[str, str] | None = None) -> None:
        self._values = dict(values or {})

    def put(self, name: str, value: str) -> None:
        self._values[name] = value

    def where(self, name: str) -> str:
        return f"configuration secret {name}"

    def get_secret(self, name: str) -> str:
        value = self._values.get(name)
        if value is None:
            raise CredentialError(f"secret {name} is not configured: set {self.where(name)}")
        return value


class AwsSecretsManager:
    """Secrets from AWS Secrets Manager (``SecretString``); ``client`` is a boto3 client."""

    label = "aws-secrets-manager"

    def __init__(self, client: SecretsManagerClient, *, prefix: str = "") -> None:
        self._client = client
        self._prefix = prefix

    def where(self, name: str) -> str:
        return f"Secrets Manager secret {self._prefix + name}"

    def get_secret(self, name: str) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        secret_id = self._prefix + name
        try:
            answer = self._client.get_secret_value(SecretId=secret_id)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "error")
            hint = f": create {self.where(name)}" if code == "ResourceNotFoundException" else ""
            raise CredentialError(
                f"secret {secret_id} unavailable from Secrets Manager: {code}{hint}"
            ) from exc
        except BotoCoreError as exc:
            raise CredentialError(
                f"Secrets Manager unreachable for {secret_id}", retryable=True
            ) from exc
        value = answer.get("SecretString")
        if not isinstance(value, str):
            raise CredentialError(f"secret {secret_id} has no SecretString")
        return value


class KeyVaultSecrets:
    """Secrets from Azure Key Vault; ``client`` is an ``azure.keyvault.secrets.SecretClient``.

    Key Vault names allow letters, digits and ``-`` only: ``/`` becomes ``-``.
    """

    label = "azure-key-vault"

    def __init__(self, client: SecretClient) -> None:
        self._client = client

    @staticmethod
    def vault_name(name: str) -> str:
        return re.sub(r"[^A-Za-z0-9-]+", "-", name).strip("-")

    def where(self, name: str) -> str:
        return f"Key Vault secret {self.vault_name(name)}"

    def get_secret(self, name: str) -> str:
        from azure.core.exceptions import AzureError, ResourceNotFoundError

        vault_name = self.vault_name(name)
        try:
            found = self._client.get_secret(vault_name)
        except AzureError as exc:
            hint = f": create {self.where(name)}" if isinstance(exc, ResourceNotFoundError) else ""
            raise CredentialError(
                f"secret {vault_name} unavailable from Key Vault: {type(exc).__name__}{hint}"
            ) from exc
        value = found.value
        if not isinstance(value, str):
            raise CredentialError(f"secret {vault_name} has no value")
        return value
