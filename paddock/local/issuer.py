"""A local OIDC issuer for development and tests: mints RS256 tokens, publishes its JWKS.

Never used in the cloud: the API accepts a plain-http issuer only in local mode, on 127.0.0.1.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from core.api.auth import DEFAULT_AUDIENCE, DEV_TOKEN_PATH
from paddock.local.authorize import Client, CodeFlow
from paddock.local.servers import LocalServer

_LOOPBACK = ("127.0.0.1", "::1", "localhost")


def _host_name(host: str) -> str | None:
    try:
        return urlsplit("//" + host).hostname
    except ValueError:
        return None


class LocalIssuer:
    """An RSA key pair and the two documents an OIDC client needs.

    ``issuer`` is the URL tokens name in ``iss``; :meth:`serve` starts the issuer on a free
    port of 127.0.0.1 and sets it. Two instances never share a key, so a token from one fails
    signature checks against the other's JWKS even when both claim the same issuer.
    """

    def __init__(self, issuer: str | None = None, *, tenant_claim: str = "tid") -> None:
        from cryptography.hazmat.primitives.asymmetric import rsa

        self.issuer = issuer or "http://127.0.0.1"
        self.tenant_claim = tenant_claim
        self.kid = "dev-" + uuid.uuid4().hex[:8]
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._server: LocalServer | None = None
        self.code_flow = CodeFlow(issuer=lambda: self.issuer, sign=self.sign)
        """Clients and users for the authorization code flow (console sign-in)."""

    def register_client(
        self, client_id: str, redirect_uri: str, *, secret: str | None = None
    ) -> None:
        """Let ``client_id`` use the authorization code flow back to ``redirect_uri``."""
        self.code_flow.clients[client_id] = Client(client_id, redirect_uri, secret)

    def add_user(self, login: str, **claims: Any) -> None:
        """A user the sign-in page offers; ``claims`` go into the ID token (with ``sub``)."""
        self.code_flow.users[login] = {"sub": login, **claims}

    def sign(self, claims: dict[str, Any]) -> str:
        """Sign any claims with this issuer's key (ID tokens of the code flow)."""
        import jwt

        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.kid})

    # -- tokens -------------------------------------------------------------------------

    def token(
        self,
        sub: str,
        tenant: str,
        roles: Sequence[str] = (),
        audience: str = DEFAULT_AUDIENCE,
        expires_in: int = 3600,
        **claims: Any,
    ) -> str:
        """A signed access token; ``expires_in`` may be negative for an expired one."""
        import jwt

        now = int(time.time())
        payload: dict[str, Any] = {
            "iss": self.issuer,
            "sub": sub,
            "aud": audience,
            "iat": now,
            "nbf": now - 1,
            "exp": now + expires_in,
            self.tenant_claim: tenant,
            "roles": list(roles),
        }
        payload.update(claims)
        return jwt.encode(payload, self._key, algorithm="RS256", headers={"kid": self.kid})

    def jwks(self) -> dict[str, Any]:
        import json

        from jwt.algorithms import RSAAlgorithm

        jwk = json.loads(RSAAlgorithm.to_jwk(self._key.public_key()))
        jwk.update({"kid": self.kid, "use": "sig", "alg": "RS256"})
        return {"keys": [jwk]}

    def openid_configuration(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "jwks_uri": self.jwks_url,
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "authorization_endpoint": self.issuer.rstrip("/") + "/authorize",
            "token_endpoint": self.issuer.rstrip("/") + "/token",
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "none"],
            "code_challenge_methods_supported": ["S256"],
        }

    @property
    def jwks_url(self) -> str:
        return self.issuer.rstrip("/") + "/jwks"

    # -- serving ------------------------------------------------------------------------

    @property
    def app(self) -> Starlette:
        """``/.well-known/openid-configuration``, ``/jwks``, ``POST /dev/token`` (the console's
        dev sign-in) and the code flow's ``/authorize`` and ``/token``, relative to the issuer
        URL."""

        async def config(_: Request) -> JSONResponse:
            return JSONResponse(self.openid_configuration())

        async def jwks(_: Request) -> JSONResponse:
            return JSONResponse(self.jwks())

        async def dev_token(request: Request) -> JSONResponse:
            # The console's dev sign-in (local mode only) asks here; nobody off this machine.
            if request.client is None or request.client.host not in _LOOPBACK:
                return JSONResponse({"error": "loopback only"}, status_code=403)
            if _host_name(request.headers.get("host", "")) not in _LOOPBACK:
                # a page on another name re-pointed at 127.0.0.1 (DNS rebinding)
                return JSONResponse({"error": "loopback names only"}, status_code=403)
            try:
                asked = await request.json()
                sub, tenant = str(asked["sub"]), str(asked["tenant"])
                roles = [str(r) for r in asked.get("roles", [])]
                expires_in = min(int(asked.get("expires_in", 3600)), 12 * 3600)
            except (ValueError, KeyError, TypeError):
                return JSONResponse({"error": "want {sub, tenant, roles}"}, status_code=400)
            return JSONResponse(
                {
                    "access_token": self.token(sub, tenant, roles, expires_in=expires_in),
                    "token_type": "Bearer",
                    "expires_in": expires_in,
                }
            )

        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", config),
                Route("/jwks", jwks),
                Route(DEV_TOKEN_PATH, dev_token, methods=["POST"]),
                *self.code_flow.routes(),
            ]
        )

    def serve(self) -> LocalIssuer:
        """Serve :attr:`app` on a free port of 127.0.0.1; the issuer URL becomes that origin."""
        server = LocalServer(self.app, name="local-issuer")
        self.issuer = server.url
        self._server = server.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> LocalIssuer:
        return self.serve()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
