"""Local identities for the demo and tests: real credentials, real checks, no cloud.

Everything here is labelled *local*: a generated static AWS key pair (services verify SigV4
with it), an in-process OIDC issuer standing in for Entra ID (RS256 tokens per audience, its
JWKS published on 127.0.0.1 when served), generated API keys in a configuration secrets
store, and an App Service-style managed-identity token endpoint so azure-identity's
``ManagedIdentityCredential`` can be pointed at it.
"""

from __future__ import annotations

import secrets
import time
from types import TracebackType
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from core.domain import Tool
from core.identity.authorizer import IdentityAuthorizer
from core.identity.aws import StaticAwsCredentials
from core.identity.base import CredentialError
from core.identity.keys import KeyRing
from core.identity.scope import AwsTarget, secret_name
from core.identity.secrets_store import StaticSecrets
from core.identity.setup import Identity
from paddock.local.issuer import LocalIssuer
from paddock.local.servers import LocalServer
from paddock.local.verify import (
    RequestVerifier,
    api_key_verifier,
    bearer_jwt_verifier,
    sigv4_verifier,
)

LOCAL_TENANT = "paddock-local-tenant"
LOCAL_SUBJECT = "paddock-local-workload"
ENTRA_LABEL = "local OIDC issuer standing in for Entra ID (demo and tests only)"


def _resource(scopes: tuple[str, ...]) -> str:
    if len(scopes) != 1:
        raise ValueError("one scope per token: the token names exactly one audience")
    return scopes[0].removesuffix("/.default")


class LocalEntraCredential:
    """A ``TokenCredential`` minting workload tokens from a :class:`LocalIssuer`.

    Each token names exactly the audience of the one scope asked for.
    """

    label = ENTRA_LABEL

    def __init__(
        self,
        issuer: LocalIssuer,
        *,
        subject: str = LOCAL_SUBJECT,
        tenant: str = LOCAL_TENANT,
        lifetime: int = 600,
    ) -> None:
        self.issuer = issuer
        self.subject = subject
        self.tenant = tenant
        self.lifetime = lifetime
        self.issued: list[str] = []
        """The audiences tokens were minted for, oldest first (for tests)."""

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        audience = _resource(scopes)
        self.issued.append(audience)
        token = self.issuer.token(
            self.subject, self.tenant, audience=audience, expires_in=self.lifetime, ver="2.0"
        )
        return AccessToken(token, int(time.time()) + self.lifetime)


def managed_identity_app(
    issuer: LocalIssuer,
    header_secret: str,
    *,
    subject: str = LOCAL_SUBJECT,
    tenant: str = LOCAL_TENANT,
    lifetime: int = 600,
    minted: list[str] | None = None,
) -> Starlette:
    """An App Service-style managed-identity endpoint (``IDENTITY_ENDPOINT``) at ``/msi/token``
    plus the issuer's discovery documents; tokens are minted for the requested resource only."""

    async def token(request: Request) -> JSONResponse:
        if request.headers.get("x-identity-header") != header_secret:
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        resource = request.query_params.get("resource", "").removesuffix("/.default")
        if not resource:
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        if minted is not None:
            minted.append(resource)
        expires = int(time.time()) + lifetime
        value = issuer.token(subject, tenant, audience=resource, expires_in=lifetime)
        return JSONResponse(
            {
                "access_token": value,
                "expires_on": str(expires),
                "resource": resource,
                "token_type": "Bearer",
            }
        )

    return Starlette(routes=[Route("/msi/token", token), Mount("/", app=issuer.app)])


class LocalIdentity:
    """The local stand-ins for every credential source, and the checks services apply.

    Use :meth:`authorizer` for the executor and the ``*_verifier`` methods for services.
    ``serve()`` publishes the issuer (JWKS and a managed-identity endpoint) on 127.0.0.1.
    """

    def __init__(self, *, aws_region: str = "us-east-1") -> None:
        self.aws = StaticAwsCredentials()
        self.issuer = LocalIssuer()
        self.entra = LocalEntraCredential(self.issuer)
        self.secrets = StaticSecrets()
        self.identity_header = secrets.token_urlsafe(16)
        self.minted: list[str] = []
        """Resources the managed-identity endpoint minted tokens for, oldest first."""
        self.target = AwsTarget(region=aws_region)
        self._server: LocalServer | None = None

    @property
    def labels(self) -> dict[str, str]:
        return {
            "aws_sigv4": self.aws.label,
            "entra": ENTRA_LABEL,
            "secrets": "generated local secrets (configuration provider)",
        }

    def authorizer(self) -> IdentityAuthorizer:
        return IdentityAuthorizer(
            aws=self.aws, entra=self.entra, secrets=self.secrets, target=self.target
        )

    # -- service-side checks --------------------------------------------------------------

    def sigv4_verifier(self, *, service: str, region: str) -> RequestVerifier:
        return sigv4_verifier(self.aws.secret_for, service=service, region=region)

    def bearer_verifier(self, *, audience: str) -> RequestVerifier:
        async def verify(request: Request) -> str | None:
            # the issuer URL is read per request: serve() may set it after this was built
            check = bearer_jwt_verifier(
                self.issuer.jwks, issuer=self.issuer.issuer, audience=audience
            )
            return await check(request)

        return verify

    def api_key_verifier(self, secret_name: str, *, header: str = "X-Api-Key") -> RequestVerifier:
        """Generates the API key ``secret_name`` (kept in :attr:`secrets`) and checks for it."""
        self.secrets.put(secret_name, "pdk_local_" + secrets.token_urlsafe(24))
        return api_key_verifier(lambda: self._secret(secret_name), header=header)

    def verifier_for(self, tool: Tool) -> RequestVerifier | None:
        """The check a local stand-in for ``tool``'s API applies, by its auth scheme."""
        auth = tool.auth
        if auth.scheme == "aws_sigv4":
            return self.sigv4_verifier(
                service=auth.service or "execute-api", region=auth.region or self.target.region
            )
        if auth.scheme == "entra" and auth.audience:
            return self.bearer_verifier(audience=auth.audience)
        if auth.scheme == "api_key" and auth.location in (None, "header"):
            return self.api_key_verifier(secret_name(tool), header=auth.param_name or "X-Api-Key")
        if auth.scheme == "bearer":
            name = secret_name(tool)
            self.secrets.put(name, "pdk_local_" + secrets.token_urlsafe(24))
            return api_key_verifier(lambda: self._bearer(name), header="Authorization")
        return None

    def _bearer(self, name: str) -> str | None:
        found = self._secret(name)
        return None if found is None else "Bearer " + found

    def _secret(self, name: str) -> str | None:
        try:
            return self.secrets.get_secret(name)
        except CredentialError:  # a missing key refuses, never crashes the service
            return None

    # -- serving --------------------------------------------------------------------------

    def serve(self) -> LocalIdentity:
        """Serve the issuer and the managed-identity endpoint on a free port of 127.0.0.1."""
        server = LocalServer(
            managed_identity_app(self.issuer, self.identity_header, minted=self.minted),
            name="local-identity",
        )
        self.issuer.issuer = server.url
        self._server = server.start()
        return self

    @property
    def managed_identity_env(self) -> dict[str, str]:
        """``IDENTITY_ENDPOINT``/``IDENTITY_HEADER`` for azure-identity (after ``serve()``)."""
        if self._server is None:
            raise RuntimeError("serve() the local identity first")
        return {
            "IDENTITY_ENDPOINT": self._server.url + "/msi/token",
            "IDENTITY_HEADER": self.identity_header,
        }

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> LocalIdentity:
        return self.serve()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def local_identity_bundle(keys: KeyRing | None = None) -> tuple[Identity, LocalIdentity]:
    """An identity backed by a new :class:`LocalIdentity` (and that object)."""
    local = LocalIdentity()
    return Identity.build(local.authorizer(), keys=keys, label="local"), local


def local_identity(keys: KeyRing) -> Identity:
    """``identity_from_env``'s local fallback: the labelled local stand-ins."""
    identity, _ = local_identity_bundle(keys)
    return identity
