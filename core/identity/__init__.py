"""Identity and entitlements: capability tokens per call and least-privilege credentials.

* :mod:`~core.identity.capability` — the orchestrator mints a short-lived signed token per
  call; the executor refuses calls without a valid one.
* :mod:`~core.identity.replay` — each token is accepted once (seen-jti stores: memory, or
  shared through the ``RunStore``), by the executor and by services that check it.
* :mod:`~core.identity.authorizer` — per-call credentials by the tool's auth scheme
  (``aws_sigv4`` with an STS session policy, ``entra``, ``api_key``, ``bearer``,
  ``oauth2_client_credentials``), cached per (scheme, audience, policy).
* :mod:`~paddock.local.identity` — labelled local stand-ins for the demo and tests.
* :mod:`~core.identity.explain` — what each step was granted and why.
"""

from core.identity.authorizer import IdentityAuthorizer
from core.identity.aws import StaticAwsCredentials, StsRoleCredentials, sign_sigv4
from core.identity.base import (
    CapabilityIssuer,
    Credential,
    CredentialCache,
    CredentialError,
    Issued,
)
from core.identity.capability import CapabilityMinter, CapabilityVerifier, Refusal
from core.identity.keys import KeyRing
from core.identity.replay import JtiUse, MemoryJtiStore, RunStoreJtiStore, SeenJtiStore
from core.identity.scope import AwsTarget, credential_scope, session_policy
from core.identity.secrets_store import (
    AwsSecretsManager,
    EnvSecrets,
    KeyVaultSecrets,
    SecretsProvider,
    StaticSecrets,
)
from core.identity.setup import Identity, identity_from_env, identity_from_settings

__all__ = [
    "AwsSecretsManager",
    "AwsTarget",
    "CapabilityIssuer",
    "CapabilityMinter",
    "CapabilityVerifier",
    "Credential",
    "CredentialCache",
    "CredentialError",
    "EnvSecrets",
    "Identity",
    "IdentityAuthorizer",
    "Issued",
    "JtiUse",
    "KeyRing",
    "KeyVaultSecrets",
    "MemoryJtiStore",
    "Refusal",
    "RunStoreJtiStore",
    "SecretsProvider",
    "SeenJtiStore",
    "StaticAwsCredentials",
    "StaticSecrets",
    "StsRoleCredentials",
    "credential_scope",
    "identity_from_env",
    "identity_from_settings",
    "session_policy",
    "sign_sigv4",
]
