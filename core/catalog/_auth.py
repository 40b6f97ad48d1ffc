"""Security schemes and requirements to one ``AuthRequirement`` per operation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.domain import AuthRequirement

KNOWN = frozenset({"none", "aws_sigv4", "entra", "api_key", "bearer", "oauth2_client_credentials"})
_ALIASES = {
    "sigv4": "aws_sigv4",
    "awssigv4": "aws_sigv4",
    "aws-sigv4": "aws_sigv4",
    "apikey": "api_key",
    "api-key": "api_key",
    "azure_ad": "entra",
    "aad": "entra",
    "oauth2-client-credentials": "oauth2_client_credentials",
}
_OVERRIDE_FIELDS = ("name", "location", "param_name", "audience", "service", "region")


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
    marker = scheme.get("x-paddock-auth")
    return found if marker is None else apply_override(found, marker)


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
        flows = scheme.get("flows") or {}
        if "clientCredentials" in flows or scheme.get("flow") == "application":
            return AuthRequirement(scheme="oauth2_client_credentials", **base)
        return AuthRequirement(scheme="oauth2", **base)
    return AuthRequirement(scheme=kind or "unknown", **base)


def from_requirements(
    requirements: Any, schemes: Mapping[str, Any], warnings: list[str]
) -> AuthRequirement:
    """The first alternative Paddock knows how to satisfy (or the first one at all)."""
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
    for candidate in candidates:
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
