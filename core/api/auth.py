"""Bearer-token authentication: JWTs checked against an OIDC issuer's published keys.

Tenant and roles come from the token's claims, never from the request body. Production
issuers (Entra ID, Cognito) must be ``https``; plain ``http`` on 127.0.0.1 is accepted only in
local mode, for the local issuer (``paddock.local.issuer.LocalIssuer``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from core.api.errors import ApiError, forbidden, unauthorized
from core.settings import Settings

if TYPE_CHECKING:
    from jwt import PyJWKClient

ROLE_APPROVER = "approver"
ROLE_ADMIN = "admin"
DEFAULT_AUDIENCE = "paddock-api"
DEV_TOKEN_PATH = "/dev/token"
"""In local mode, where the console asks the configured issuer for a dev sign-in token (the
local issuer, ``paddock.local.issuer``, serves it to loopback callers only)."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's subject, tenant and roles."""

    subject: str
    tenant: str
    roles: frozenset[str] = frozenset()

    @property
    def is_admin(self) -> bool:
        return ROLE_ADMIN in self.roles

    def require_role(self, *roles: str) -> None:
        """Raise 403 unless the caller holds one of ``roles``."""
        if roles and not self.roles.intersection(roles):
            raise forbidden(f"this operation needs the {' or '.join(roles)} role")

    def require_tenant(self, tenant: str) -> None:
        """Raise 403 unless the caller belongs to ``tenant`` (admins reach every tenant)."""
        if tenant != self.tenant and not self.is_admin:
            raise forbidden("the run belongs to another tenant")


class Authenticator(Protocol):
    """Turns an ``Authorization`` header into a principal, or raises a 401/403 ``ApiError``."""

    def authenticate(self, authorization: str | None) -> Principal: ...


class Unconfigured:
    """Refuses every authenticated request: the deployment names no issuer."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def authenticate(self, authorization: str | None) -> Principal:
        raise ApiError(503, "auth_not_configured", self.reason)


class JwtAuthenticator:
    """Validates RS256/ES256 bearer JWTs: signature (JWKS, cached), issuer, audience, expiry."""

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        jwks_url: str | None = None,
        algorithms: Sequence[str] = ("RS256", "ES256"),
        tenant_claims: Sequence[str] = ("tid", "tenant"),
        roles_claim: str = "roles",
        leeway_seconds: float = 30.0,
        timeout_seconds: float = 5.0,
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.algorithms = list(algorithms)
        self.tenant_claims = tuple(tenant_claims)
        self.roles_claim = roles_claim
        self.leeway = leeway_seconds
        self.timeout = timeout_seconds
        self._jwks_url = jwks_url
        self._client: PyJWKClient | None = None
        self._lock = threading.Lock()

    def authenticate(self, authorization: str | None) -> Principal:
        token = bearer_token(authorization)
        claims = self._verify(token)
        return self._principal(claims)

    def _verify(self, token: str) -> dict[str, Any]:
        import jwt

        try:
            key = self._keys().get_signing_key_from_jwt(token)
        except jwt.PyJWKClientConnectionError as exc:
            raise ApiError(
                503, "auth_unavailable", "the token issuer's signing keys cannot be fetched"
            ) from exc
        except (jwt.PyJWKClientError, jwt.DecodeError) as exc:
            raise unauthorized(f"token rejected: {exc}") from exc
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=self.algorithms,
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise unauthorized("token expired") from exc
        except jwt.InvalidSignatureError as exc:
            raise unauthorized("token signature is not valid") from exc
        except jwt.InvalidAudienceError as exc:
            raise unauthorized("token is not meant for this API (audience)") from exc
        except jwt.InvalidIssuerError as exc:
            raise unauthorized("token comes from an issuer this API does not trust") from exc
        except jwt.InvalidTokenError as exc:
            raise unauthorized(f"token rejected: {exc}") from exc
        return claims

    def _principal(self, claims: dict[str, Any]) -> Principal:
        tenant = next(
            (claims[c] for c in self.tenant_claims if isinstance(claims.get(c), str) and claims[c]),
            None,
        )
        if tenant is None:
            raise forbidden(f"the token carries no tenant claim ({', '.join(self.tenant_claims)})")
        raw = claims.get(self.roles_claim, [])
        roles = raw.split() if isinstance(raw, str) else [r for r in raw if isinstance(r, str)]
        return Principal(subject=str(claims["sub"]), tenant=tenant, roles=frozenset(roles))

    def _keys(self) -> PyJWKClient:
        with self._lock:
            if self._client is None:
                from jwt import PyJWKClient

                url = self._jwks_url or discover_jwks_url(self.issuer, self.timeout)
                self._client = PyJWKClient(url, cache_keys=True, lifespan=300, timeout=self.timeout)
            return self._client


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise unauthorized("missing bearer token (Authorization: Bearer <jwt>)")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized("the Authorization header must be 'Bearer <jwt>'")
    return token.strip()


def discover_jwks_url(issuer: str, timeout: float) -> str:
    """The ``jwks_uri`` from the issuer's OpenID configuration."""
    import urllib.request

    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            doc = json.loads(resp.read())
    except (OSError, ValueError) as exc:
        raise ApiError(
            503, "auth_unavailable", "the token issuer's configuration cannot be fetched"
        ) from exc
    jwks = doc.get("jwks_uri") if isinstance(doc, dict) else None
    if not isinstance(jwks, str):
        raise ApiError(503, "auth_unavailable", "the issuer publishes no jwks_uri")
    return jwks


def authenticator_from_settings(settings: Settings) -> Authenticator:
    """The API's authenticator for these settings; refuses plain-http issuers outside local
    mode (and anywhere but 127.0.0.1 inside it)."""
    auth = settings.auth
    if not auth.issuer:
        return Unconfigured("no token issuer configured (PADDOCK_AUTH_ISSUER)")
    for url in (auth.issuer, auth.jwks_url):
        if url and not _acceptable(url, local=settings.local.enabled):
            return Unconfigured(
                f"issuer URL {url!r} must be https (http only on 127.0.0.1 in local mode)"
            )
    return JwtAuthenticator(
        issuer=auth.issuer,
        audience=auth.audience or DEFAULT_AUDIENCE,
        jwks_url=auth.jwks_url,
    )


def _acceptable(url: str, *, local: bool) -> bool:
    parts = urlsplit(url)
    if parts.scheme == "https":
        return True
    return local and parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost")
