"""Console sign-in with an OpenID Connect provider: authorization code flow with PKCE.

``/console/signin-oidc`` sends the browser to the provider with a fresh ``state``, ``nonce``
and PKCE challenge, kept in a short-lived signed HttpOnly cookie (``SameSite=Lax``: the
provider's redirect back is a cross-site navigation). ``/console/callback`` checks the state,
redeems the code with the verifier, validates the ID token (signature from the provider's
JWKS, issuer, audience = client id, expiry, nonce) and maps its claims to a principal: roles
from ``PADDOCK_CONSOLE_ROLES_CLAIM`` (through ``PADDOCK_CONSOLE_ROLE_MAP``), tenant from
``PADDOCK_CONSOLE_TENANT_CLAIM``. The session is then a signed HttpOnly cookie holding that
principal; the provider's tokens are not kept.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from core.api.auth import Principal
from core.console.session import COOKIE, ConsoleDenied
from core.console.signed import seal, unseal
from core.settings import ConsoleSettings

FLOW_COOKIE = "paddock_console_oidc"
FLOW_SECONDS = 600
SESSION_COOKIE = COOKIE
"""The console's one session cookie: a signed session here, a pasted JWT otherwise (a JWT has
two dots, a signed session one), so signing out clears either."""
SESSION_SECONDS = 8 * 3600
_FLOW = b"paddock-console-oidc-flow"
_SESSION = b"paddock-console-session"
ALGORITHMS = ("RS256", "ES256", "PS256")
TIMEOUT_SECONDS = 5.0


class OidcClient:
    """The console's client of one provider (discovery and keys fetched once, lazily)."""

    def __init__(self, settings: ConsoleSettings, *, secure: bool) -> None:
        assert settings.oidc_issuer and settings.oidc_client_id and settings.session_secret
        if not acceptable_issuer(settings.oidc_issuer, local=not secure):
            raise ConsoleDenied(
                503,
                "The sign-in provider's URL must be https (http only on 127.0.0.1 in local mode).",
            )
        self.settings = settings
        self.issuer: str = settings.oidc_issuer
        self.client_id: str = settings.oidc_client_id
        self.secure = secure
        self._secret: str = settings.session_secret
        self._metadata: dict[str, Any] | None = None
        self._keys: Any = None
        self._lock = threading.RLock()

    # -- the two legs ---------------------------------------------------------------------

    def start(self) -> tuple[str, str]:
        """The provider's authorization URL and the ``Set-Cookie`` holding this flow."""
        state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        verifier = secrets.token_urlsafe(48)
        challenge = _b64(hashlib.sha256(verifier.encode()).digest())
        query = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.settings.oidc_redirect_uri or "",
            "scope": self.settings.oidc_scopes,
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        endpoint = str(self.metadata()["authorization_endpoint"])
        sep = "&" if "?" in endpoint else "?"
        flow = seal(
            self._secret,
            _FLOW,
            {"state": state, "nonce": nonce, "verifier": verifier},
            seconds=FLOW_SECONDS,
        )
        cookie = _cookie(FLOW_COOKIE, flow, FLOW_SECONDS, secure=self.secure, same_site="Lax")
        return endpoint + sep + urllib.parse.urlencode(query), cookie

    def finish(self, query: dict[str, str], flow_value: str | None) -> Principal:
        """Check the provider's answer against this browser's flow; the signed-in principal.

        Raises ``ConsoleDenied`` for an error answer, a state that is not this browser's
        (login CSRF), an expired flow, or a token that does not validate.
        """
        flow = unseal(self._secret, _FLOW, flow_value)
        if "error" in query:
            why = query.get("error_description") or query["error"]
            raise ConsoleDenied(401, f"The identity provider did not sign you in: {why}")
        if flow is None or not secrets.compare_digest(
            str(flow.get("state", "")), query.get("state", "")
        ):
            raise ConsoleDenied(
                400,
                "This sign-in did not start in this browser, or took too long. Sign in again.",
            )
        code = query.get("code")
        if not code:
            raise ConsoleDenied(400, "The identity provider sent no authorization code.")
        id_token = self._redeem(code, str(flow["verifier"]))
        claims = self._validate(id_token, str(flow["nonce"]))
        return principal_from_claims(claims, self.settings)

    # -- sessions -------------------------------------------------------------------------

    def session_cookie(self, principal: Principal) -> str:
        value = seal(
            self._secret,
            _SESSION,
            {
                "sub": principal.subject,
                "tenant": principal.tenant,
                "roles": sorted(principal.roles),
            },
            seconds=SESSION_SECONDS,
        )
        return _cookie(SESSION_COOKIE, value, SESSION_SECONDS, secure=self.secure)

    def session(self, value: str | None) -> Principal | None:
        """The principal of a session cookie this console signed, if still valid."""
        if value is None or value.count(".") != 1:
            return None
        found = unseal(self._secret, _SESSION, value)
        if found is None:
            return None
        roles = found.get("roles")
        if not isinstance(roles, list):
            return None
        return Principal(
            subject=str(found.get("sub")),
            tenant=str(found.get("tenant")),
            roles=frozenset(str(r) for r in roles),
        )

    # -- provider calls -------------------------------------------------------------------

    def metadata(self) -> dict[str, Any]:
        """The provider's discovery document (its ``issuer`` must be the configured one)."""
        with self._lock:
            if self._metadata is None:
                url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
                doc = _get_json(url)
                if doc.get("issuer") != self.issuer:
                    raise ConsoleDenied(503, "The identity provider names another issuer.")
                for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                    if not isinstance(doc.get(key), str):
                        raise ConsoleDenied(503, f"The identity provider publishes no {key}.")
                self._metadata = doc
            return self._metadata

    def _redeem(self, code: str, verifier: str) -> str:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.settings.oidc_redirect_uri or "",
            "client_id": self.client_id,
            "code_verifier": verifier,
        }
        headers = {"content-type": "application/x-www-form-urlencoded"}
        secret = self.settings.oidc_client_secret
        if secret is not None:
            methods = self.metadata().get("token_endpoint_auth_methods_supported") or []
            if "client_secret_basic" in methods or "client_secret_post" not in methods:
                pair = f"{_quote(self.client_id)}:{_quote(secret)}".encode()
                headers["authorization"] = "Basic " + base64.b64encode(pair).decode()
            else:
                form["client_secret"] = secret
        request = urllib.request.Request(
            str(self.metadata()["token_endpoint"]),
            data=urllib.parse.urlencode(form).encode(),
            headers=headers,
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as resp:
                answer = json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            raise ConsoleDenied(
                401, f"The identity provider refused the code ({exc.code})."
            ) from exc
        except (OSError, ValueError) as exc:
            raise ConsoleDenied(503, "The identity provider did not answer.") from exc
        token = answer.get("id_token") if isinstance(answer, dict) else None
        if not isinstance(token, str):
            raise ConsoleDenied(401, "The identity provider sent no ID token.")
        return token

    def _validate(self, token: str, nonce: str) -> dict[str, Any]:
        import jwt

        try:
            key = self._jwks().get_signing_key_from_jwt(token)
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=list(ALGORITHMS),
                audience=self.client_id,
                issuer=self.issuer,
                leeway=30,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.PyJWKClientConnectionError as exc:
            raise ConsoleDenied(503, "The identity provider's keys cannot be fetched.") from exc
        except (jwt.PyJWKClientError, jwt.InvalidTokenError) as exc:
            raise ConsoleDenied(401, f"The ID token was refused: {exc}") from exc
        if not secrets.compare_digest(str(claims.get("nonce", "")), nonce):
            raise ConsoleDenied(401, "The ID token was issued for another sign-in (nonce).")
        if "azp" in claims and claims["azp"] != self.client_id:
            raise ConsoleDenied(401, "The ID token was issued to another client (azp).")
        return claims

    def _jwks(self) -> Any:
        from jwt import PyJWKClient

        with self._lock:
            if self._keys is None:
                uri = str(self.metadata()["jwks_uri"])
                self._keys = PyJWKClient(uri, cache_keys=True, lifespan=300, timeout=5)
            return self._keys


def principal_from_claims(claims: dict[str, Any], settings: ConsoleSettings) -> Principal:
    """Subject, tenant and roles from an ID token's claims, as ``settings`` name them.

    Raises ``ConsoleDenied`` (403) when no tenant claim is present.
    """
    tenant = next(
        (
            str(claims[name])
            for name in settings.tenant_claims
            if isinstance(claims.get(name), str) and claims[name]
        ),
        None,
    )
    if tenant is None:
        raise ConsoleDenied(
            403,
            "Your account carries no Paddock tenant (claim "
            f"{' or '.join(settings.tenant_claims)}). Ask your administrator.",
        )
    raw = claims.get(settings.roles_claim, [])
    given = raw.split() if isinstance(raw, str) else [r for r in raw if isinstance(r, str)]
    roles = frozenset(settings.role_map.get(r, r) for r in given)
    return Principal(subject=str(claims["sub"]), tenant=tenant, roles=roles)


def acceptable_issuer(url: str, *, local: bool) -> bool:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return True
    return local and parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost")


def _cookie(name: str, value: str, max_age: int, *, secure: bool, same_site: str = "Strict") -> str:
    # No Path: scoped to the console's directory, whatever prefix it is served under.
    flags = "; Secure" if secure else ""
    return f"{name}={value}; Max-Age={max_age}; HttpOnly; SameSite={same_site}{flags}"


def _get_json(url: str) -> dict[str, Any]:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as resp:
            doc = json.loads(resp.read())
    except (OSError, ValueError) as exc:
        raise ConsoleDenied(
            503, "The identity provider's configuration cannot be fetched."
        ) from exc
    if not isinstance(doc, dict):
        raise ConsoleDenied(503, "The identity provider's configuration is not a JSON object.")
    return doc


def _quote(text: str) -> str:
    return urllib.parse.quote(text, safe="")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")
