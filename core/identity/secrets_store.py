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

    def get_secret(self, name: str) -> str:
        value = self._values.get(env_name(name))
        if not value:
            raise CredentialError(
                f"secret {name} is not set (environment variable {env_name(name)})"
            )
        return value


class StaticSecrets:
    """Secrets from configuration (a mapping by name); also what local demos use."""

    label = "configuration"

    def __init__(self, values: Mapping[str, str] | None = None) -> None:
        self._values = dict(values or {})

    def put(self, name: str, value: str) -> None:
        self._values[name] = value

    def get_secret(self, name: str) -> str:
        value = self._values.get(name)
        if value is None:
            raise CredentialError(f"secret {name} is not configured")
        return value


class AwsSecretsManager:
    """Secrets from AWS Secrets Manager (``SecretString``); ``client`` is a boto3 client."""

    label = "aws-secrets-manager"

    def __init__(self, client: SecretsManagerClient, *, prefix: str = "") -> None:
        self._client = client
        self._prefix = prefix

    def get_secret(self, name: str) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        secret_id = self._prefix + name
        try:
            answer = self._client.get_secret_value(SecretId=secret_id)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "error")
            raise CredentialError(
                f"secret {secret_id} unavailable from Secrets Manager: {code}"
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

    def get_secret(self, name: str) -> str:
        from azure.core.exceptions import AzureError

        vault_name = self.vault_name(name)
        try:
            found = self._client.get_secret(vault_name)
        except AzureError as exc:
            raise CredentialError(
                f"secret {vault_name} unavailable from Key Vault: {type(exc).__name__}"
            ) from exc
        value = found.value
        if not isinstance(value, str):
            raise CredentialError(f"secret {vault_name} has no value")
        return value
