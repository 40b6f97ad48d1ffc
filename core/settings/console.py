"""The web console's OpenID Connect sign-in (``core.console.oidc``; docs/console.md)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field, field_validator, model_validator

from core.settings._base import EnvGroup

MIN_SECRET = 32


def _names(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    return tuple(item.strip() for item in value.split(",") if item.strip())


def _role_map(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    found: dict[str, str] = {}
    for item in value.split(","):
        if not item.strip():
            continue
        given, sep, role = item.partition("=")
        if not sep or not given.strip() or not role.strip():
            raise ValueError(f"{item.strip()!r} is not <claim value>=<paddock role>")
        found[given.strip()] = role.strip()
    return found


class ConsoleSettings(EnvGroup):
    """Sign-in to the console with an OpenID Connect provider (authorization code + PKCE).

    Unset issuer: the console offers only the pasted token (and the dev sign-in locally).
    """

    oidc_issuer: str | None = Field(default=None, validation_alias="PADDOCK_CONSOLE_OIDC_ISSUER")
    """PADDOCK_CONSOLE_OIDC_ISSUER: the provider's issuer URL (Entra ID
    ``https://login.microsoftonline.com/<tenant>/v2.0``, Cognito
    ``https://cognito-idp.<region>.amazonaws.com/<pool id>``); https, http only on 127.0.0.1
    in local mode."""
    oidc_client_id: str | None = Field(
        default=None, validation_alias="PADDOCK_CONSOLE_OIDC_CLIENT_ID"
    )
    """PADDOCK_CONSOLE_OIDC_CLIENT_ID: the console's client (app) id at the provider."""
    oidc_client_secret: str | None = Field(
        default=None, validation_alias="PADDOCK_CONSOLE_OIDC_CLIENT_SECRET", repr=False
    )
    """PADDOCK_CONSOLE_OIDC_CLIENT_SECRET: the client secret, for a confidential client
    (unset: a public client, PKCE only)."""
    oidc_redirect_uri: str | None = Field(
        default=None, validation_alias="PADDOCK_CONSOLE_OIDC_REDIRECT_URI"
    )
    """PADDOCK_CONSOLE_OIDC_REDIRECT_URI: the console's callback as registered with the
    provider: ``https://<api host>[/<stage>]/console/callback``."""
    oidc_scopes: str = Field(
        default="openid profile email", validation_alias="PADDOCK_CONSOLE_OIDC_SCOPES"
    )
    """PADDOCK_CONSOLE_OIDC_SCOPES: the scopes asked for (space-separated, with ``openid``)."""
    roles_claim: str = Field(default="roles", validation_alias="PADDOCK_CONSOLE_ROLES_CLAIM")
    """PADDOCK_CONSOLE_ROLES_CLAIM: the ID token claim with the user's roles (Entra app roles:
    ``roles``; Cognito groups: ``cognito:groups``)."""
    tenant_claims: Annotated[tuple[str, ...], BeforeValidator(_names)] = Field(
        default=("tid", "tenant"), validation_alias="PADDOCK_CONSOLE_TENANT_CLAIM"
    )
    """PADDOCK_CONSOLE_TENANT_CLAIM: the claim naming the user's Paddock tenant, or several
    comma-separated, first present wins (Entra: ``tid``; Cognito: ``custom:tenant``)."""
    role_map: Annotated[dict[str, str], BeforeValidator(_role_map)] = Field(
        default_factory=dict, validation_alias="PADDOCK_CONSOLE_ROLE_MAP"
    )
    """PADDOCK_CONSOLE_ROLE_MAP: provider role or group names to Paddock roles,
    ``Paddock.Approver=approver,paddock-admins=admin`` (unmapped values pass unchanged)."""
    session_secret: str | None = Field(
        default=None, validation_alias="PADDOCK_CONSOLE_SESSION_SECRET", repr=False
    )
    """PADDOCK_CONSOLE_SESSION_SECRET: the key (32+ characters) that signs console session
    cookies; required with an issuer. Changing it signs everybody out."""

    @field_validator("session_secret")
    @classmethod
    def _long(cls, secret: str | None) -> str | None:
        if secret is not None and len(secret) < MIN_SECRET:
            raise ValueError(f"must be at least {MIN_SECRET} characters")
        return secret

    @field_validator("oidc_scopes")
    @classmethod
    def _openid(cls, scopes: str) -> str:
        if "openid" not in scopes.split():
            raise ValueError("must include 'openid'")
        return scopes

    @model_validator(mode="after")
    def _complete(self) -> ConsoleSettings:
        if self.oidc_issuer and not (
            self.oidc_client_id and self.oidc_redirect_uri and self.session_secret
        ):
            raise ValueError(
                "the OIDC sign-in (PADDOCK_CONSOLE_OIDC_ISSUER) needs "
                "PADDOCK_CONSOLE_OIDC_CLIENT_ID, PADDOCK_CONSOLE_OIDC_REDIRECT_URI and "
                "PADDOCK_CONSOLE_SESSION_SECRET"
            )
        return self

    @property
    def oidc(self) -> bool:
        """Whether OpenID Connect sign-in is configured."""
        return bool(self.oidc_issuer)
