"""What one call needs, and nothing more: the scope a credential is minted for.

The scope is a pure function of the tool and the request it becomes, so the orchestrator
(which names it in the capability token), the authorizer (which obtains the credential) and
``paddock identity explain`` (which shows it) all agree on it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import httpx

from core.domain import HttpBinding, Tool
from core.identity.base import CredentialError

EXECUTE_API = "execute-api"
SECRET_SCHEMES = frozenset(
    {"api_key", "bearer", "basic", "oauth2_client_credentials", "oauth2_refresh_token"}
)
"""Schemes whose credential comes from (or starts at) the tool's secret."""
LOCAL_ACCOUNT = "000000000000"
"""The account id session policies name when none is configured (local runs only)."""
_EXECUTE_API_HOST = re.compile(r"^([a-z0-9]+)\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$")
_ROLE_ACCOUNT = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):")
_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class AwsTarget:
    """Where AWS tools live, for building ``execute-api`` ARNs.

    Args:
        account_id: the account of the APIs (default: the role's account, else a local
            placeholder).
        region: fallback when neither the tool nor its host names one.
        api_ids: API id by host, for custom domains (``api.example.com`` -> ``a1b2c3``).
        stage: the stage when the URL does not carry one (HTTP APIs: ``$default``).
        partition: ``aws`` (or ``aws-cn``, ``aws-us-gov``).
    """

    account_id: str = LOCAL_ACCOUNT
    region: str = "us-east-1"
    api_ids: tuple[tuple[str, str], ...] = ()
    stage: str = "$default"
    partition: str = "aws"

    @classmethod
    def from_role(cls, role_arn: str | None, **kwargs: Any) -> AwsTarget:
        found = _ROLE_ACCOUNT.match(role_arn or "")
        if found is not None:
            kwargs.setdefault("account_id", found.group(1))
        return cls(**kwargs)


def _base_path(tool: Tool) -> str:
    """The path of an HTTP tool's base URL (empty for other bindings: they have no URL)."""
    if not isinstance(tool.binding, HttpBinding):
        return ""
    return httpx.URL(tool.binding.base_url).path


def _under_base(tool: Tool, url: httpx.URL) -> str:
    base = _base_path(tool).rstrip("/")
    path = url.raw_path.decode("ascii").split("?", 1)[0]
    return path[len(base) :] if base and path.startswith(base) else path


def execute_api_arn(tool: Tool, method: str, url: httpx.URL, target: AwsTarget) -> str:
    """``arn:aws:execute-api:REGION:ACCOUNT:API/STAGE/METHOD/PATH`` of exactly this request."""
    host = (url.host or "").lower()
    found = _EXECUTE_API_HOST.match(host)
    base_path = _base_path(tool).strip("/")
    if found is not None:
        api_id, region = found.group(1), tool.auth.region or found.group(2)
        stage = base_path.split("/", 1)[0] if base_path else target.stage
    else:  # a custom domain or a local stand-in: the configured id, else the host and port
        netloc = host if url.port is None else f"{host}:{url.port}"
        api_ids = dict(target.api_ids)
        api_id = (
            api_ids.get(netloc) or api_ids.get(host) or _SLUG.sub("-", netloc).strip("-") or "api"
        )
        region = tool.auth.region or target.region
        stage = target.stage
    path = _under_base(tool, url) or "/"
    return (
        f"arn:{target.partition}:execute-api:{region}:{target.account_id}:"
        f"{api_id}/{stage}/{method.upper()}{path}"
    )


def session_policy(resource: str, action: str = "execute-api:Invoke") -> str:
    """The inline session policy for STS: one action on one resource, as compact JSON."""
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}],
    }
    return json.dumps(document, separators=(",", ":"))


def entra_scope(tool: Tool) -> str:
    """The one scope an Entra token is requested for: ``<audience>/.default``."""
    audience = tool.auth.audience
    if not audience:
        raise CredentialError(
            f"tool {tool.name} uses entra but names no audience "
            "(x-paddock-auth: {scheme: entra, audience: ...})"
        )
    return audience if audience.endswith("/.default") else audience.rstrip("/") + "/.default"


def secret_name(tool: Tool) -> str:
    """Where a tool's API key, bearer token or client secret is kept: ``paddock/<api>/<scheme>``.

    The same name is used in every secrets provider (Key Vault turns ``/`` into ``-``; the
    environment provider reads ``PADDOCK_SECRET_<NAME>`` in upper snake case).
    """
    api = tool.spec.title if tool.spec is not None else tool.binding.endpoint or tool.name
    scheme = tool.auth.name or tool.auth.scheme
    return f"paddock/{_slug(api)}/{_slug(scheme)}"


def _slug(text: str) -> str:
    return _SLUG.sub("-", text.lower()).strip("-") or "default"


def credential_scope(tool: Tool, method: str, url: httpx.URL, target: AwsTarget) -> dict[str, Any]:
    """What the call's credential may do, as data (no secret): by the tool's auth scheme."""
    auth = tool.auth
    scope: dict[str, Any] = {"scheme": auth.scheme}
    if auth.scheme == "aws_sigv4":
        service = auth.service or EXECUTE_API
        scope["service"] = service
        scope["region"] = auth.region or target.region
        if service == EXECUTE_API:
            scope["action"] = "execute-api:Invoke"
            scope["resource"] = execute_api_arn(tool, method, url, target)
    elif auth.scheme == "entra":
        scope["audience"] = auth.audience
        scope["scope"] = entra_scope(tool)
    elif auth.scheme in SECRET_SCHEMES:
        scope["secret"] = secret_name(tool)
        if auth.scopes:
            scope["scopes"] = list(auth.scopes)
    return scope
