"""Assembling the identity layer from settings: who mints, who verifies, who holds secrets."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from core.errors import ConfigError
from core.identity.authorizer import AccessTokenSource, IdentityAuthorizer
from core.identity.aws import AwsCredentialSource, StsRoleCredentials, web_identity_from_file
from core.identity.capability import DEFAULT_TTL, CapabilityMinter, CapabilityVerifier
from core.identity.keys import KeyRing
from core.identity.scope import AwsTarget
from core.identity.secrets_store import (
    AwsSecretsManager,
    ChainedSecrets,
    EnvSecrets,
    SecretsProvider,
)
from core.settings import IdentitySettings

AZURE_TOKEN_EXCHANGE = "api://AzureADTokenExchange"


@dataclass(frozen=True)
class Identity:
    """The three pieces the runtime wires in: the orchestrator's minter, the executor's
    verifier and authorizer."""

    minter: CapabilityMinter
    verifier: CapabilityVerifier
    authorizer: IdentityAuthorizer
    label: str = "configured"

    @classmethod
    def build(
        cls,
        authorizer: IdentityAuthorizer,
        *,
        keys: KeyRing | None = None,
        ttl: float = DEFAULT_TTL,
        label: str = "configured",
    ) -> Identity:
        keys = keys or KeyRing.generate()
        minter = CapabilityMinter(
            keys, ttl=ttl, target=authorizer.target, sources=authorizer.sources()
        )
        return cls(
            minter=minter,
            verifier=CapabilityVerifier(keys.verifying()),
            authorizer=authorizer,
            label=label,
        )


LocalFallback = Callable[[KeyRing], Identity]
"""Builds a local process's identity from its capability keys when no cloud identity is set
(the CLI's labelled local stand-ins, ``paddock.local.identity``)."""


def identity_from_settings(
    settings: IdentitySettings,
    *,
    cloud: str = "local",
    local: LocalFallback | None = None,
) -> Identity:
    """The identity of a process, from its identity settings (``settings.identity``).

    * capability keys: ``PADDOCK_CAPABILITY_KEY``/``_KEY_ID`` (else generated);
    * AWS: ``PADDOCK_AWS_ROLE_ARN`` (``AssumeRole``), with ``AWS_WEB_IDENTITY_TOKEN_FILE`` or
      ``PADDOCK_AWS_TOKEN_AUDIENCE`` (an Entra managed-identity token) for
      ``AssumeRoleWithWebIdentity``;
    * Entra: ``PADDOCK_ENTRA_CLIENT_ID`` + ``PADDOCK_ENTRA_TENANT_ID`` (an AWS web identity
      token exchanged at Entra), else the managed identity on Azure;
    * secrets: ``PADDOCK_SECRETS=aws`` (Secrets Manager, names under
      ``PADDOCK_SECRETS_PREFIX``), ``keyvault`` (``PADDOCK_KEY_VAULT_URL``) or environment
      variables (``PADDOCK_SECRET_<NAME>``, the default; a local process reads them before
      its generated local secrets).

    A local process with none of these gets ``local(keys)`` when given (the CLI's labelled
    local stand-ins), else the same authorizer as in the cloud with no role to assume.
    """
    keys = KeyRing.from_settings(settings)
    if cloud == "local" and not settings.configured and local is not None:
        return _env_first(local(keys), settings, keys)
    target = AwsTarget.from_role(settings.aws_role_arn, region=settings.aws_region)
    authorizer = IdentityAuthorizer(
        aws=_aws_source(settings),
        entra=_entra_source(settings, cloud),
        secrets=_secrets(settings),
        target=target,
    )
    return Identity.build(authorizer, keys=keys, label=cloud)


def _env_first(identity: Identity, settings: IdentitySettings, keys: KeyRing) -> Identity:
    """The local stand-ins with ``PADDOCK_SECRET_<NAME>`` read first: ``env`` is the default
    store everywhere, and a missing secret names the variable to set."""
    authorizer = identity.authorizer
    env = EnvSecrets(settings.secret_values)
    authorizer.secrets = (
        env if authorizer.secrets is None else ChainedSecrets(env, authorizer.secrets)
    )
    return Identity.build(authorizer, keys=keys, label=identity.label)


def identity_from_env(
    env: Mapping[str, str] | None = None,
    *,
    cloud: str = "local",
    local: LocalFallback | None = None,
) -> Identity:
    """:func:`identity_from_settings` with the settings read from ``env`` (default: the
    process environment)."""
    return identity_from_settings(IdentitySettings.from_env(env), cloud=cloud, local=local)


def _aws_source(settings: IdentitySettings) -> AwsCredentialSource | None:
    role = settings.aws_role_arn
    if role is None:
        return None
    import boto3

    client = boto3.client("sts", region_name=settings.aws_region)
    web_identity: Callable[[], str] | None = None
    audience = settings.aws_token_audience
    if settings.aws_web_identity_token_file:
        web_identity = web_identity_from_file(settings.aws_web_identity_token_file)
    elif audience:

        def managed_identity_token() -> str:
            from azure.identity import ManagedIdentityCredential

            scope = audience if audience.endswith("/.default") else audience + "/.default"
            return str(ManagedIdentityCredential().get_token(scope).token)

        web_identity = managed_identity_token
    return StsRoleCredentials(client, role, web_identity=web_identity)


def _entra_source(settings: IdentitySettings, cloud: str) -> AccessTokenSource | None:
    client_id, tenant_id = settings.entra_client_id, settings.entra_tenant_id
    if client_id and tenant_id:
        import boto3
        from azure.identity import ClientAssertionCredential

        sts = boto3.client("sts", region_name=settings.aws_region)

        def aws_web_identity_token() -> str:
            answer = sts.get_web_identity_token(
                Audience=[AZURE_TOKEN_EXCHANGE], SigningAlgorithm="RS256"
            )
            return str(answer["WebIdentityToken"])

        return ClientAssertionCredential(tenant_id, client_id, aws_web_identity_token)
    if client_id or tenant_id:
        raise ConfigError("PADDOCK_ENTRA_CLIENT_ID and PADDOCK_ENTRA_TENANT_ID go together")
    if cloud == "azure":
        from azure.identity import ManagedIdentityCredential

        return ManagedIdentityCredential()
    if cloud == "local":
        from azure.identity import DefaultAzureCredential

        return DefaultAzureCredential()
    return None


def _secrets(settings: IdentitySettings) -> SecretsProvider:
    kind = settings.secrets or "env"
    if kind == "aws":
        import boto3

        # PADDOCK_SECRETS_PREFIX keeps one stack's secrets apart from another's in the same
        # account (the worker role may read only that prefix): "<stack>/" + "paddock/<api>/...".
        return AwsSecretsManager(
            boto3.client("secretsmanager", region_name=settings.aws_region),
            prefix=settings.secrets_prefix,
        )
    if kind == "keyvault":
        vault = settings.key_vault_url
        if not vault:
            raise ConfigError("PADDOCK_SECRETS=keyvault needs PADDOCK_KEY_VAULT_URL")
        from azure.identity import DefaultAzureCredential

        try:
            from azure.keyvault.secrets import SecretClient
        except ImportError as exc:
            raise ConfigError(
                "PADDOCK_SECRETS=keyvault needs the azure extra (azure-keyvault-secrets)"
            ) from exc
        from core.identity.secrets_store import KeyVaultSecrets

        return KeyVaultSecrets(SecretClient(vault, DefaultAzureCredential()))
    return EnvSecrets(settings.secret_values)
