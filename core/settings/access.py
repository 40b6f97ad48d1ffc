"""Who may call the API: the token issuer, and the local mode that opens the dev sign-in."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from core.errors import ConfigError
from core.settings._base import EnvGroup, Flag

PORTS_VARIABLE = "PADDOCK_LOCAL_BASE_URL_PORTS"


class AuthSettings(EnvGroup):
    """The OIDC issuer whose bearer tokens the API accepts (``core.api.auth``)."""

    issuer: str | None = Field(default=None, validation_alias="PADDOCK_AUTH_ISSUER")
    """PADDOCK_AUTH_ISSUER: the issuer URL (https; http only on 127.0.0.1 in local mode).
    Unset: every authenticated route answers 503."""
    jwks_url: str | None = Field(default=None, validation_alias="PADDOCK_AUTH_JWKS_URL")
    """PADDOCK_AUTH_JWKS_URL: where the issuer publishes its signing keys (unset: from the
    issuer's discovery document)."""
    audience: str | None = Field(default=None, validation_alias="PADDOCK_AUTH_AUDIENCE")
    """PADDOCK_AUTH_AUDIENCE: the audience the API's tokens must carry (unset:
    ``paddock-api``)."""
    operator_issuer: str | None = Field(
        default=None, validation_alias="PADDOCK_AUTH_OPERATOR_ISSUER"
    )
    """PADDOCK_AUTH_OPERATOR_ISSUER: the issuer of platform-operator tokens, one the platform
    team controls and tenants cannot administer (unset: nobody holds the platform-operator
    role; a ``platform-operator`` role in a tenant token is ignored)."""
    operator_audience: str | None = Field(
        default=None, validation_alias="PADDOCK_AUTH_OPERATOR_AUDIENCE"
    )
    """PADDOCK_AUTH_OPERATOR_AUDIENCE: the audience operator tokens carry (unset:
    ``paddock-operator``); must differ from the tenants' audience when both issuers are one."""
    operator_jwks_url: str | None = Field(
        default=None, validation_alias="PADDOCK_AUTH_OPERATOR_JWKS_URL"
    )
    """PADDOCK_AUTH_OPERATOR_JWKS_URL: the operator issuer's signing keys (unset: from its
    discovery document)."""


def parse_ports(text: str | None, *, name: str = PORTS_VARIABLE) -> frozenset[int]:
    """``"8001, 8002"`` -> ``{8001, 8002}``; unset or blank -> no ports.

    Raises ``ConfigError`` naming ``name`` for anything but a comma-separated list of port
    numbers (1-65535).
    """
    if text is None or not text.strip():
        return frozenset()
    ports: set[int] = set()
    for item in text.split(","):
        entry = item.strip()
        if not (entry.isascii() and entry.isdigit() and 1 <= int(entry) <= 65535):
            raise ConfigError(
                f"{name} must be a comma-separated list of ports (1-65535), not {text!r}"
            )
        ports.add(int(entry))
    return frozenset(ports)


def _ports(value: Any) -> Any:
    return parse_ports(value) if isinstance(value, str) else value


class LocalSettings(EnvGroup):
    """A developer's machine: the dev sign-in and where example runs may point."""

    enabled: Flag = Field(default=False, validation_alias="PADDOCK_LOCAL_MODE")
    """PADDOCK_LOCAL_MODE: enables the dev sign-in and loopback base URLs; refused in the
    cloud."""
    base_url_ports: Annotated[frozenset[int], BeforeValidator(_ports)] = Field(
        default=frozenset(), validation_alias="PADDOCK_LOCAL_BASE_URL_PORTS"
    )
    """PADDOCK_LOCAL_BASE_URL_PORTS: loopback ports (comma-separated) an example run's
    ``base_urls`` may name in local mode, besides those of the example's own services."""
