"""Security schemes and requirements to one ``AuthRequirement`` per operation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.domain import AuthRequirement

KNOWN = frozenset(
    {
        "none",
        "aws_sigv4",
        "entra",
        "api_key",
        "bearer",
        "basic",
        "oauth2_client_credentials",
        "oauth2_refresh_token",
    }
)
EXCHANGE = "x-paddock-token-exchange"
"""On a security scheme: how to get an access token when the vendor's flow is not one OpenAPI
describes (Login with Amazon for SP-API); see ``docs/identity.md``."""
_ALIASES = {
    "sigv4": "aws_sigv4",
    "awssigv4": "aws_sigv4",
    "aws-sigv4": "aws_sigv4",
    "apikey": "api_key",
    "api-key": "api_key",
    "azure_ad": "entra",
    "aad": "entra",
    "oauth2-client-credentials": "oauth2_client_credentials",
    "oauth2-refresh-token": "oauth2_refresh_token",
}
_OVERRIDE_FIELDS = (
    "name",
    "location",
    "param_name",
    "audience",
    "service",
    "region",
    "token_url",
    "client_auth",
    "token_header",
    "token_prefix",
)
_GRANTS = {
    "client_credentials": "oauth2_client_credentials",
    "refresh_token": "oauth2_refresh_token",
}


def _scheme_name(value: str) -> str:
    lowered = value.strip().lower()
    return _ALIASES.get(lowered, lowered)


def security_schemes(document: Mapping[str, Any]) -> dict[str, Any]:
    found = (
        (document.get("components") or {}).get("securitySchemes")
        or document.get("securityDefinitions")
        or {}
    )
    return found if isinstance(found, dict) else {}


def from_scheme(name: str, scheme: Mapping[str, Any], scopes: list[str]) -> AuthRequirement:
    """One named security scheme (with the scopes the operation asks for).

    ``x-paddock-auth`` on the scheme (a name or an object) refines what its type says.
    """
    found = _from_type(name, scheme, scopes)
    exchange = scheme.get(EXCHANGE)
    if isinstance(exchange, dict):
        found = _exchange(found, exchange)
    marker = scheme.get("x-paddock-auth")
    return found if marker is None else apply_override(found, marker)


def _exchange(found: AuthRequirement, exchange: dict[str, Any]) -> AuthRequirement:
    """``x-paddock-token-exchange``: ``grant`` (``refresh_token`` or ``client_credentials``),
    ``token_url``, ``client_auth`` (``basic``/``body``), ``header`` and ``prefix``."""
    grant = str(exchange.get("grant", "refresh_token"))
    fields: dict[str, Any] = {"scheme": _GRANTS.get(grant, f"oauth2_{grant}")}
    for key, field in (
        ("token_url", "token_url"),
        ("client_auth", "client_auth"),
        ("header", "token_header"),
        ("prefix", "token_prefix"),
    ):
        if isinstance(exchange.get(key), str):
            fields[field] = exchange[key]
    return found.model_copy(update=fields)


def _from_type(name: str, scheme: Mapping[str, Any], scopes: list[str]) -> AuthRequirement:
    kind = str(scheme.get("type", "")).strip()
    base: dict[str, Any] = {"name": name, "scopes": tuple(str(s) for s in scopes)}
    if str(scheme.get("x-amazon-apigateway-authtype", "")).lower() == "awssigv4":
        return AuthRequirement(scheme="aws_sigv4", service="execute-api", **base)
    if kind == "apiKey":
        return AuthRequirement(
            scheme="api_key",
            location=str(scheme.get("in", "header")),
            param_name=str(scheme.get("name", "")) or None,
            **base,
        )
    if kind == "http":
        http = str(scheme.get("scheme", "")).lower()
        return AuthRequirement(scheme="bearer" if http == "bearer" else http or "http", **base)
    if kind == "oauth2":
        return _oauth2(scheme, base)
    return AuthRequirement(scheme=kind or "unknown", **base)


def _oauth2(scheme: Mapping[str, Any], base: dict[str, Any]) -> AuthRequirement:
    """Client credentials when the scheme offers them; otherwise a refresh-token grant at the
    authorization-code (or password) flow's token endpoint: Paddock never runs the
    interactive part, it refreshes a token consented to once (the secret holds it)."""
    flows = scheme.get("flows")
    flows = flows if isinstance(flows, dict) else {}
    if "clientCredentials" in flows or scheme.get("flow") == "application":
        flow = flows.get("clientCredentials") or scheme
        return AuthRequirement(
            scheme="oauth2_client_credentials", token_url=_token_url(flow), **base
        )
    for key in ("authorizationCode", "password"):
        if isinstance(flows.get(key), dict):
            url = _token_url(flows[key], refresh=True)
            return AuthRequirement(scheme="oauth2_refresh_token", token_url=url, **base)
    if scheme.get("flow") in ("accessCode", "password"):
        return AuthRequirement(scheme="oauth2_refresh_token", token_url=_token_url(scheme), **base)
    return AuthRequirement(scheme="oauth2", **base)


def _token_url(flow: Any, *, refresh: bool = False) -> str | None:
    if not isinstance(flow, Mapping):
        return None
    for key in ("refreshUrl", "tokenUrl") if refresh else ("tokenUrl",):
        if isinstance(flow.get(key), str) and flow[key].strip():
            return str(flow[key]).strip()
    return None


def from_requirements(
    requirements: Any, schemes: Mapping[str, Any], warnings: list[str]
) -> AuthRequirement:
    """The first alternative Paddock knows how to satisfy, HTTP Basic only when nothing else
    is offered (or the first one at all)."""
    if not isinstance(requirements, list) or not requirements:
        return AuthRequirement()
    candidates: list[AuthRequirement] = []
    for alternative in requirements:
        if not isinstance(alternative, dict):
            continue
        if not alternative:
            candidates.append(AuthRequirement())  # {}: anonymous access is allowed
            continue
        for name, scopes in alternative.items():
            scheme = schemes.get(name)
            if not isinstance(scheme, dict):
                warnings.append(f"security scheme {name!r} is not defined")
                continue
            candidates.append(from_scheme(str(name), scheme, list(scopes or [])))
        if len(alternative) > 1:
            warnings.append(
                f"security requirement {sorted(alternative)} combines several "
                "schemes; only the first is applied"
            )
    # Basic last: a vendor offering it next to a token scheme (Stripe) means the token one.
    for candidate in sorted(candidates, key=lambda c: c.scheme == "basic"):
        if candidate.scheme in KNOWN:
            return candidate
    return candidates[0] if candidates else AuthRequirement()


def apply_override(auth: AuthRequirement, override: Any) -> AuthRequirement:
    """``x-paddock-auth``: a scheme name, or an object with ``scheme`` and its fields."""
    if isinstance(override, str):
        return apply_override(auth, {"scheme": override})
    if not isinstance(override, dict):
        return auth
    fields: dict[str, Any] = {"scheme": _scheme_name(str(override.get("scheme", auth.scheme)))}
    for key in _OVERRIDE_FIELDS:
        if key in override:
            fields[key] = str(override[key])
    if "scopes" in override:
        scopes = override["scopes"]
        fields["scopes"] = tuple(str(s) for s in (scopes if isinstance(scopes, list) else [scopes]))
    if fields["scheme"] == "aws_sigv4":
        fields.setdefault("service", "execute-api")
    if fields["scheme"] == auth.scheme:
        return auth.model_copy(update=fields)
    return AuthRequirement(**{"name": auth.name, "scopes": auth.scopes, **fields})
