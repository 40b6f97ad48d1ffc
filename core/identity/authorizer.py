"""The executor's ``RequestAuthorizer``: a credential for exactly this call, by auth scheme.

Only the executor holds credentials: they are fetched here, cached per (scheme, audience,
policy) until shortly before expiry, put on the outgoing request and nowhere else.
"""

from __future__ import annotations

import base64
from typing import Any, Protocol

import httpx
import jwt

from core.domain import Tool
from core.execution.base import CallContext
from core.identity.aws import AwsCredentialSource, session_name, sign_sigv4
from core.identity.base import Credential, CredentialCache, CredentialError
from core.identity.oauth2 import GRANTS, OAuth2Tokens, parse_client
from core.identity.scope import EXECUTE_API, AwsTarget, credential_scope, session_policy
from core.identity.secrets_store import SecretsProvider, where_to_set


class AccessTokenSource(Protocol):
    """What the authorizer needs of an ``azure.core.credentials.TokenCredential``."""

    def get_token(self, *scopes: str, **kwargs: Any) -> Any: ...


class IdentityAuthorizer:
    """Adds the scheme-appropriate credential to each outgoing request.

    Args:
        aws: the AWS credential source for ``aws_sigv4`` tools.
        entra: an azure-identity credential for ``entra`` tools.
        secrets: the secrets provider for ``api_key``, ``bearer``, ``basic`` and the OAuth2
            (``oauth2_client_credentials``, ``oauth2_refresh_token``) tools.
        target: where AWS APIs live (for session policy ARNs).
        cache: the credential cache (default: a fresh one).
        http: the client that fetches OAuth2 tokens (client credentials, refresh tokens).
    """

    def __init__(
        self,
        *,
        aws: AwsCredentialSource | None = None,
        entra: AccessTokenSource | None = None,
        secrets: SecretsProvider | None = None,
        target: AwsTarget | None = None,
        cache: CredentialCache | None = None,
        http: httpx.Client | None = None,
    ) -> None:
        self.aws = aws
        self.entra = entra
        self.secrets = secrets
        self.target = target or AwsTarget()
        self.cache = cache or CredentialCache()
        self.oauth2 = OAuth2Tokens(http=http)

    def sources(self) -> dict[str, str]:
        """Where each scheme's credentials come from (labels only, for explain and logs)."""
        entra = "not configured"
        if self.entra is not None:
            entra = (
                str(getattr(self.entra, "label", ""))
                or "azure-identity " + type(self.entra).__name__
            )
        return {
            "aws_sigv4": self.aws.label if self.aws else "not configured",
            "entra": entra,
            "secrets": self.secrets.label if self.secrets else "not configured",
        }

    def authorize(self, tool: Tool, request: httpx.Request, ctx: CallContext) -> None:
        scheme = tool.auth.scheme
        if scheme == "none":
            return
        scope = credential_scope(tool, request.method, request.url, self.target)
        _check_token_scope(ctx, scope)
        if scheme == "aws_sigv4":
            self._sigv4(tool, request, ctx, scope)
        elif scheme == "entra":
            token = self._entra_token(str(scope["scope"]))
            request.headers["Authorization"] = "Bearer " + token.secret["token"]
        elif scheme == "api_key":
            self._api_key(tool, request, str(scope["secret"]))
        elif scheme == "bearer":
            value = self._secret(str(scope["secret"]))
            request.headers["Authorization"] = "Bearer " + value.secret["value"]
        elif scheme == "basic":
            pair = self._secret(str(scope["secret"])).secret["value"].encode()
            request.headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        elif scheme in GRANTS:
            token = self._oauth2(tool, str(scope["secret"]))
            header = tool.auth.token_header or "Authorization"
            prefix = "Bearer " if tool.auth.token_prefix is None else tool.auth.token_prefix
            request.headers[header] = prefix + token.secret["token"]
        else:
            raise CredentialError(f"{tool.name}: auth scheme {scheme!r} is not supported")

    # -- aws_sigv4 ----------------------------------------------------------------------

    def _sigv4(
        self, tool: Tool, request: httpx.Request, ctx: CallContext, scope: dict[str, Any]
    ) -> None:
        source = self.aws
        if source is None:
            raise CredentialError(
                f"{tool.name} needs AWS credentials: none configured (set PADDOCK_AWS_ROLE_ARN)"
            )
        service = str(scope["service"])
        if service != EXECUTE_API:
            raise CredentialError(
                f"{tool.name}: session policies are generated for execute-api only, not {service}"
            )
        policy = session_policy(str(scope["resource"]))
        name = session_name(ctx.run_id, ctx.step_index, ctx.call_index)
        credential = self.cache.get(
            ("aws_sigv4", f"{service}:{scope['region']}", policy),
            lambda: source.credentials(policy, name),
        )
        sign_sigv4(request, credential, service=service, region=str(scope["region"]))

    # -- entra --------------------------------------------------------------------------

    def _entra_token(self, scope: str) -> Credential:
        source = self.entra
        if source is None:
            raise CredentialError(
                f"an Entra token for {scope} is needed: no credential "
                "configured (PADDOCK_ENTRA_CLIENT_ID / managed identity)"
            )

        def fetch() -> Credential:
            from azure.core.exceptions import AzureError

            try:
                found = source.get_token(scope)
            except AzureError as exc:
                raise CredentialError(
                    f"no Entra token for {scope}: {type(exc).__name__}", retryable=True
                ) from exc
            return Credential(
                secret={"token": str(found.token)},
                source=f"entra:{type(source).__name__}",
                expires_at=float(found.expires_on),
            )

        return self.cache.get(("entra", scope, ""), fetch)

    # -- secrets ------------------------------------------------------------------------

    def _secret(self, name: str) -> Credential:
        provider = self.secrets
        if provider is None:
            raise CredentialError(f"secret {name} is needed: no secrets provider configured")
        return self.cache.get(
            ("secret", name, ""),
            lambda: Credential(secret={"value": provider.get_secret(name)}, source=provider.label),
        )

    def _api_key(self, tool: Tool, request: httpx.Request, name: str) -> None:
        value = self._secret(name).secret["value"]
        param = tool.auth.param_name or "X-Api-Key"
        if tool.auth.location == "query":
            request.url = request.url.copy_set_param(param, value)
        elif tool.auth.location == "cookie":  # next to the call's own cookie parameters
            cookies = [c for c in [request.headers.get("Cookie"), f"{param}={value}"] if c]
            request.headers["Cookie"] = "; ".join(cookies)
        else:
            request.headers[param] = value

    def _oauth2(self, tool: Tool, name: str) -> Credential:
        provider = self.secrets
        if provider is None:
            raise CredentialError(f"secret {name} is needed: no secrets provider configured")
        raw = self._secret(name).secret["value"]
        client = parse_client(name, where_to_set(provider, name), raw, tool.auth)
        return self.oauth2.token(name, client, tool.auth)


def _check_token_scope(ctx: CallContext, scope: dict[str, Any]) -> None:
    """The credential may not exceed what the capability token (already verified) names."""
    if not ctx.capability_token:
        return
    claims = jwt.decode(ctx.capability_token, options={"verify_signature": False})
    granted = claims.get("scope")
    if granted is not None and granted != scope:
        raise CredentialError(
            "the request's credential scope differs from the scope its capability token grants"
        )
