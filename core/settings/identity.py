"""Who the workers are towards the tools: capability keys, cloud identities, tool secrets."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal, Self

from pydantic import AliasChoices, BeforeValidator, Field, model_validator

from core.errors import ConfigError
from core.settings._base import EnvGroup, EnvPrefix, Lowered

SecretsKind = Literal["env", "aws", "keyvault"]
SECRET_PREFIX = "PADDOCK_SECRET_"
"""``PADDOCK_SECRET_<NAME>``: a tool secret when ``PADDOCK_SECRETS`` is ``env`` or unset."""


def _public_keys(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        keys = json.loads(value)
    except ValueError:
        keys = None
    if not isinstance(keys, dict):
        raise ValueError("must be JSON {kid: PEM}")
    return {str(k): str(v) for k, v in keys.items()}


class IdentitySettings(EnvGroup):
    """Capability keys, the AWS and Entra identities the workers use for tools, and where
    tool secrets come from (``core.identity.setup``)."""

    capability_key: str | None = Field(
        default=None, validation_alias="PADDOCK_CAPABILITY_KEY", repr=False
    )
    """PADDOCK_CAPABILITY_KEY: the PEM (PKCS#8 Ed25519) private key that signs capability
    tokens; unset: each process generates its own."""
    capability_key_id: str | None = Field(
        default=None, validation_alias="PADDOCK_CAPABILITY_KEY_ID"
    )
    """PADDOCK_CAPABILITY_KEY_ID: the key id of ``PADDOCK_CAPABILITY_KEY`` (required with it)."""
    capability_previous_keys: Annotated[dict[str, str], BeforeValidator(_public_keys)] = Field(
        default_factory=dict, validation_alias="PADDOCK_CAPABILITY_PREVIOUS_KEYS"
    )
    """PADDOCK_CAPABILITY_PREVIOUS_KEYS: JSON ``{kid: public PEM}`` of retired keys whose
    tokens still verify (rotation)."""
    aws_role_arn: str | None = Field(default=None, validation_alias="PADDOCK_AWS_ROLE_ARN")
    """PADDOCK_AWS_ROLE_ARN: the role assumed (narrowed per call) for AWS-signed tools."""
    aws_token_audience: str | None = Field(
        default=None, validation_alias="PADDOCK_AWS_TOKEN_AUDIENCE"
    )
    """PADDOCK_AWS_TOKEN_AUDIENCE: on Azure, the audience of the managed-identity token
    exchanged at STS (``AssumeRoleWithWebIdentity``) for the role."""
    aws_web_identity_token_file: str | None = Field(
        default=None, validation_alias="AWS_WEB_IDENTITY_TOKEN_FILE"
    )
    """AWS_WEB_IDENTITY_TOKEN_FILE: a web identity token file for the role (EKS and the like);
    wins over ``PADDOCK_AWS_TOKEN_AUDIENCE``."""
    aws_region: str = Field(
        default="us-east-1", validation_alias=AliasChoices("AWS_REGION", "AWS_DEFAULT_REGION")
    )
    """AWS_REGION (else AWS_DEFAULT_REGION): the region of STS and Secrets Manager."""
    entra_client_id: str | None = Field(default=None, validation_alias="PADDOCK_ENTRA_CLIENT_ID")
    """PADDOCK_ENTRA_CLIENT_ID: on AWS, the Entra app (user-assigned identity) to federate
    into with an AWS web identity token; needs ``PADDOCK_ENTRA_TENANT_ID``."""
    entra_tenant_id: str | None = Field(default=None, validation_alias="PADDOCK_ENTRA_TENANT_ID")
    """PADDOCK_ENTRA_TENANT_ID: the Entra tenant of ``PADDOCK_ENTRA_CLIENT_ID``."""
    secrets: Annotated[SecretsKind | None, Lowered] = Field(
        default=None, validation_alias="PADDOCK_SECRETS"
    )
    """PADDOCK_SECRETS: where tool secrets come from: ``env`` (``PADDOCK_SECRET_<NAME>``),
    ``aws`` (Secrets Manager) or ``keyvault`` (Azure Key Vault). Unset: ``env``, and a local
    process gets its labelled local identities (reading ``PADDOCK_SECRET_<NAME>`` first)."""
    secrets_prefix: str = Field(default="", validation_alias="PADDOCK_SECRETS_PREFIX")
    """PADDOCK_SECRETS_PREFIX: put before every Secrets Manager secret name (``<stack>/``), so
    one stack's worker reads only its own secrets."""
    key_vault_url: str | None = Field(default=None, validation_alias="PADDOCK_KEY_VAULT_URL")
    """PADDOCK_KEY_VAULT_URL: the vault of ``PADDOCK_SECRETS=keyvault``."""
    secret_values: Annotated[dict[str, str], EnvPrefix(SECRET_PREFIX)] = Field(
        default_factory=dict, repr=False
    )
    """PADDOCK_SECRET_<NAME>: tool secrets by variable name (``PADDOCK_SECRETS=env`` or unset,
    the default); ``paddock/supplier-risk-api/apikey`` is
    ``PADDOCK_SECRET_SUPPLIER_RISK_API_APIKEY``."""

    @model_validator(mode="after")
    def _pairs(self) -> Self:
        # ConfigError, not ValueError: pydantic passes it through as it is, one line.
        if self.capability_key and not self.capability_key_id:
            raise ConfigError("PADDOCK_CAPABILITY_KEY needs PADDOCK_CAPABILITY_KEY_ID")
        if bool(self.entra_client_id) != bool(self.entra_tenant_id):
            raise ConfigError("PADDOCK_ENTRA_CLIENT_ID and PADDOCK_ENTRA_TENANT_ID go together")
        if self.secrets == "keyvault" and not self.key_vault_url:
            raise ConfigError("PADDOCK_SECRETS=keyvault needs PADDOCK_KEY_VAULT_URL")
        return self

    @property
    def configured(self) -> bool:
        """Whether any cloud identity or secrets source is set (else a local process may use
        its local stand-ins)."""
        return bool(self.aws_role_arn or self.entra_client_id or self.secrets)
