"""Bearer-token authentication: JWTs checked against an OIDC issuer's published keys.

Tenant and roles come from the token's claims, never from the request body. Every role is
scoped to the token's tenant. The one role that reaches across tenants,
``platform-operator``, is granted only to tokens of the separately configured operator issuer
and audience (``PADDOCK_AUTH_OPERATOR_*``): a tenant token naming that role has it stripped, so
whoever administers a tenant's identity provider cannot mint it. Production issuers (Entra ID,
Cognito) must be ``https``; plain ``http`` on 127.0.0.1 is accepted only in local mode, for
the local issuer (``paddock.local.issuer.LocalIssuer``).
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
ROLE_PLATFORM_OPERATOR = "platform-operator"
"""Acts across tenants (read, list, cancel, raise any kill flag); only operator-issuer tokens
carry it."""
DEFAULT_AUDIENCE = "paddock-api"
DEFAULT_OPERATOR_AUDIENCE = "paddock-operator"
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
        """An administrator of the caller's own tenant (never of another)."""
        return ROLE_ADMIN in self.roles

    @property
    def is_operator(self) -> bool:
        """A platform operator: may act on every tenant."""
        return ROLE_PLATFORM_OPERATOR in self.roles

    def require_role(self, *roles: str) -> None:
        """Raise 403 unless the caller holds one of ``roles``."""
        if roles and not self.roles.intersection(roles):
            raise forbidden(f"this operation needs the {' or '.join(roles)} role")

    def require_tenant(self, tenant: str) -> None:
        """Raise 403 unless the caller belongs to ``tenant`` or is a platform operator (a
        tenant's admin reaches only their own tenant)."""
        if tenant != self.tenant and not self.is_operator:
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
    """Validates RS256/ES256 bearer JWTs: signature (JWKS, cached), issuer, audience, expiry.

    With ``operator=True`` it is the operator issuer's authenticator: its principals hold
    ``platform-operator``. Otherwise that role is removed from whatever the token claims.
    """

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
        operator: bool = False,
    ) -> None:
        self.operator = operator
        """Tokens this authenticator accepts are platform operators' (its issuer and audience
        are the operator ones)."""
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
        granted = set(roles) - {ROLE_PLATFORM_OPERATOR}  # never from a tenant's issuer
        if self.operator:
            granted.add(ROLE_PLATFORM_OPERATOR)
        return Principal(subject=str(claims["sub"]), tenant=tenant, roles=frozenset(granted))

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
    urls = (auth.issuer, auth.jwks_url, auth.operator_issuer, auth.operator_jwks_url)
    for url in urls:
        if url and not _acceptable(url, local=settings.local.enabled):
            return Unconfigured(
                f"issuer URL {url!r} must be https (http only on 127.0.0.1 in local mode)"
            )
    tenants = JwtAuthenticator(
        issuer=auth.issuer,
        audience=auth.audience or DEFAULT_AUDIENCE,
        jwks_url=auth.jwks_url,
    )
    if not auth.operator_issuer:
        return tenants
    operators = JwtAuthenticator(
        issuer=auth.operator_issuer,
        audience=auth.operator_audience or DEFAULT_OPERATOR_AUDIENCE,
        jwks_url=auth.operator_jwks_url,
        operator=True,
    )
    if operators.issuer == tenants.issuer and operators.audience == tenants.audience:
        return Unconfigured(
            "the operator issuer is the tenants' issuer: PADDOCK_AUTH_OPERATOR_AUDIENCE must "
            "name an audience tenant tokens cannot carry"
        )
    return OperatorAware(tenants, operators)


class OperatorAware:
    """Tenant tokens and platform-operator tokens: a token whose audience is the operator
    audience is checked against the operator issuer only (and gets ``platform-operator``);
    every other token against the tenants' issuer."""

    def __init__(self, tenants: JwtAuthenticator, operators: JwtAuthenticator) -> None:
        self.tenants = tenants
        self.operators = operators

    def authenticate(self, authorization: str | None) -> Principal:
        token = bearer_token(authorization)
        chosen = self.operators if self._for_operators(token) else self.tenants
        return chosen._principal(chosen._verify(token))

    def _for_operators(self, token: str) -> bool:
        import jwt

        try:  # routing only: the chosen authenticator verifies everything
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.InvalidTokenError:
            return False
        aud = claims.get("aud")
        audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
        return self.operators.audience in audiences


def _acceptable(url: str, *, local: bool) -> bool:
    parts = urlsplit(url)
    if parts.scheme == "https":
        return True
    return local and parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost")
