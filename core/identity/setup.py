"""Assembling the identity layer from settings: who mints, who verifies, who holds secrets."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from core.errors import ConfigError
from core.identity.authorizer import AccessTokenSource, IdentityAuthorizer
from core.identity.aws import AwsCredentialSource, StsRoleCredentials, web_identity_from_file
from core.identity.capability import DEFAULT_TTL, CapabilityMinter, CapabilityVerifier
from core.identity.keys import KeyRing
from core.identity.scope import AwsTarget
from core.identity.secrets_store import AwsSecretsManager, EnvSecrets, SecretsProvider

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


def identity_from_env(
    env: Mapping[str, str] | None = None,
    *,
    cloud: str = "local",
    local: LocalFallback | None = None,
) -> Identity:
    """The identity of a process, from ``PADDOCK_*`` settings.

    * capability keys: ``PADDOCK_CAPABILITY_KEY``/``_KEY_ID`` (else generated);
    * AWS: ``PADDOCK_AWS_ROLE_ARN`` (``AssumeRole``), with ``AWS_WEB_IDENTITY_TOKEN_FILE`` or
      ``PADDOCK_AWS_TOKEN_AUDIENCE`` (an Entra managed-identity token) for
      ``AssumeRoleWithWebIdentity``;
    * Entra: ``PADDOCK_ENTRA_CLIENT_ID`` + ``PADDOCK_ENTRA_TENANT_ID`` (an AWS web identity
      token exchanged at Entra), else the managed identity on Azure;
    * secrets: ``PADDOCK_SECRETS=aws`` (Secrets Manager, names under
      ``PADDOCK_SECRETS_PREFIX``), ``keyvault`` (``PADDOCK_KEY_VAULT_URL``) or environment
      variables.

    A local process with none of these gets ``local(keys)`` when given (the CLI's labelled
    local stand-ins), else the same authorizer as in the cloud with no role to assume.
    """
    env = dict(os.environ if env is None else env)
    keys = KeyRing.from_env(env)
    configured = any(
        env.get(k) for k in ("PADDOCK_AWS_ROLE_ARN", "PADDOCK_ENTRA_CLIENT_ID", "PADDOCK_SECRETS")
    )
    if cloud == "local" and not configured and local is not None:
        return local(keys)
    role = env.get("PADDOCK_AWS_ROLE_ARN") or None
    target = AwsTarget.from_role(role, region=_region(env))
    authorizer = IdentityAuthorizer(
        aws=_aws_source(env, role),
        entra=_entra_source(env, cloud),
        secrets=_secrets(env),
        target=target,
    )
    return Identity.build(authorizer, keys=keys, label=cloud)


def _region(env: Mapping[str, str]) -> str:
    return env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"


def _aws_source(env: Mapping[str, str], role: str | None) -> AwsCredentialSource | None:
    if role is None:
        return None
    import boto3

    client = boto3.client("sts", region_name=_region(env))
    web_identity: Callable[[], str] | None = None
    if env.get("AWS_WEB_IDENTITY_TOKEN_FILE"):
        web_identity = web_identity_from_file(env["AWS_WEB_IDENTITY_TOKEN_FILE"])
    elif env.get("PADDOCK_AWS_TOKEN_AUDIENCE"):
        audience = env["PADDOCK_AWS_TOKEN_AUDIENCE"]

        def managed_identity_token() -> str:
            from azure.identity import ManagedIdentityCredential

            scope = audience if audience.endswith("/.default") else audience + "/.default"
            return str(ManagedIdentityCredential().get_token(scope).token)

        web_identity = managed_identity_token
    return StsRoleCredentials(client, role, web_identity=web_identity)


def _entra_source(env: Mapping[str, str], cloud: str) -> AccessTokenSource | None:
    client_id, tenant_id = env.get("PADDOCK_ENTRA_CLIENT_ID"), env.get("PADDOCK_ENTRA_TENANT_ID")
    if client_id and tenant_id:
        import boto3
        from azure.identity import ClientAssertionCredential

        sts = boto3.client("sts", region_name=_region(env))

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


def _secrets(env: Mapping[str, str]) -> SecretsProvider:
    kind = env.get("PADDOCK_SECRETS", "env").strip().lower()
    if kind == "aws":
        import boto3

        # PADDOCK_SECRETS_PREFIX keeps one stack's secrets apart from another's in the same
        # account (the worker role may read only that prefix): "<stack>/" + "paddock/<api>/...".
        return AwsSecretsManager(
            boto3.client("secretsmanager", region_name=_region(env)),
            prefix=env.get("PADDOCK_SECRETS_PREFIX", "").strip(),
        )
    if kind == "keyvault":
        vault = env.get("PADDOCK_KEY_VAULT_URL")
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
    if kind == "env":
        return EnvSecrets(env)
    raise ConfigError(f"unknown PADDOCK_SECRETS {kind!r}: choose env, aws or keyvault")
