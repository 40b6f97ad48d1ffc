"""OAuth2 access tokens for tools: the client-credentials and refresh-token grants.

A tool's secret (``paddock/<api>/<scheme>``) is JSON: ``client_id``, ``client_secret`` and, for
the refresh-token grant, ``refresh_token``; optionally ``token_url`` (else the spec's),
``scope`` and ``audience``. Tokens are cached per (grant, token endpoint, client, scopes) and
refreshed ``margin`` seconds before they expire. Concurrent calls that need the same token
share one request to the token endpoint (single flight: a lock per key, checked again once
held). When the endpoint rotates the refresh token, the new one is used from then on (held in
memory: the secret store is never written). A refused refresh token is a clear, non-retryable
error that names the secret to update.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from core.domain import AuthRequirement
from core.identity.base import Credential, CredentialError

GRANTS = {
    "oauth2_client_credentials": "client_credentials",
    "oauth2_refresh_token": "refresh_token",
}
_REFUSED = frozenset({"invalid_grant", "invalid_client", "unauthorized_client"})
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True)
class Client:
    """The OAuth2 client a secret describes (never printed: ``repr`` hides the secrets)."""

    client_id: str
    client_secret: str = field(repr=False)
    token_url: str
    refresh_token: str | None = field(default=None, repr=False)
    scope: str = ""
    audience: str = ""


def parse_client(name: str, where: str, raw: str, auth: AuthRequirement) -> Client:
    """The client in secret ``name`` (``where`` says how to set it, for errors)."""
    grant = GRANTS[auth.scheme]
    needed = ["client_id", "client_secret"] + (
        ["refresh_token"] if grant == "refresh_token" else []
    )
    if not auth.token_url:
        needed.append("token_url")
    try:
        config = json.loads(raw)
    except ValueError:
        config = None
    missing = [k for k in needed if not isinstance(config, dict) or not config.get(k)]
    if not isinstance(config, dict) or missing:
        raise CredentialError(
            f"secret {name} must be JSON with {', '.join(needed)} "
            f"(missing {', '.join(missing) or 'all'}); set {where}"
        )
    return Client(
        client_id=str(config["client_id"]),
        client_secret=str(config["client_secret"]),
        token_url=str(config.get("token_url") or auth.token_url),
        refresh_token=str(config["refresh_token"]) if config.get("refresh_token") else None,
        scope=str(config.get("scope", "")),
        audience=str(config.get("audience", "")),
    )


class OAuth2Tokens:
    """Fetches, caches and refreshes OAuth2 access tokens (thread-safe, single flight).

    Args:
        http: the client that talks to token endpoints (default: one per fetch).
        margin: refresh this many seconds before a token expires.
        default_lifetime: seconds a token lives when the endpoint gives no ``expires_in``.
        clock: the time source (``time.time``).
    """

    def __init__(
        self,
        *,
        http: httpx.Client | None = None,
        margin: float = 60.0,
        default_lifetime: float = 300.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._http = http
        self._margin = margin
        self._default_lifetime = default_lifetime
        self._clock = clock
        self._lock = threading.Lock()
        self._locks: dict[tuple[str, ...], threading.Lock] = {}
        self._tokens: dict[tuple[str, ...], Credential] = {}
        self._refresh: dict[tuple[str, ...], str] = {}
        self.fetches = 0
        """Requests sent to token endpoints (for tests and metrics)."""

    def token(self, name: str, client: Client, auth: AuthRequirement) -> Credential:
        """A valid access token for ``client`` and the tool's scopes (fetched if needed)."""
        grant = GRANTS[auth.scheme]
        scope = " ".join(auth.scopes) or client.scope
        key = (grant, client.token_url, client.client_id, scope, client.audience)
        found = self._fresh(key)
        if found is not None:
            return found
        with self._lock:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:  # one fetch per key; the others wait and take its token
            found = self._fresh(key)
            if found is not None:
                return found
            credential = self._fetch(name, client, auth, grant, scope, key)
            with self._lock:
                self._tokens[key] = credential
            return credential

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()

    def _fresh(self, key: tuple[str, ...]) -> Credential | None:
        with self._lock:
            found = self._tokens.get(key)
        if found is None or found.expires_at is None:
            return None
        return found if self._clock() < found.expires_at - self._margin else None

    def _fetch(
        self,
        name: str,
        client: Client,
        auth: AuthRequirement,
        grant: str,
        scope: str,
        key: tuple[str, ...],
    ) -> Credential:
        form = {"grant_type": grant}
        if grant == "refresh_token":
            form["refresh_token"] = self._refresh.get(key) or str(client.refresh_token)
        if scope:
            form["scope"] = scope
        if client.audience:
            form["audience"] = client.audience
        basic: tuple[str, str] | None = (client.client_id, client.client_secret)
        if auth.client_auth == "body":
            form.update(client_id=client.client_id, client_secret=client.client_secret)
            basic = None
        body = self._post(client.token_url, form, basic, name, grant)
        if isinstance(body.get("refresh_token"), str) and body["refresh_token"]:
            self._refresh[key] = body["refresh_token"]  # rotated: the old one is spent
        lifetime = body.get("expires_in")
        seconds = float(lifetime) if isinstance(lifetime, int | float | str) else None
        return Credential(
            secret={"token": str(body["access_token"])},
            source=f"oauth2 {grant}:{httpx.URL(client.token_url).host}",
            expires_at=self._clock() + (seconds or self._default_lifetime),
        )

    def _post(
        self,
        url: str,
        form: dict[str, str],
        basic: tuple[str, str] | None,
        name: str,
        grant: str,
    ) -> dict[str, Any]:
        target = httpx.URL(url)
        host = target.host
        if target.scheme != "https" and host not in _LOOPBACK:
            # the client secret and refresh token would cross the network in clear text
            raise CredentialError(f"token endpoint {url} is not https; refused")
        http = self._http or httpx.Client(trust_env=False, timeout=10.0)
        self.fetches += 1
        headers = {"Accept": "application/json"}
        try:
            if basic is None:
                response = http.post(url, data=form, headers=headers)
            else:
                response = http.post(url, data=form, auth=basic, headers=headers)
        except httpx.HTTPError as exc:
            raise CredentialError(f"token endpoint {host} unreachable", retryable=True) from exc
        finally:
            if self._http is None:
                http.close()
        try:
            body = response.json()
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        if response.status_code != 200:
            raise _refusal(host, response.status_code, body, name, grant)
        if not isinstance(body.get("access_token"), str) or not body["access_token"]:
            raise CredentialError(f"token endpoint {host} answered without an access_token")
        return body


def _refusal(
    host: str, status: int, body: dict[str, Any], name: str, grant: str
) -> CredentialError:
    code = str(body.get("error", "")) if isinstance(body.get("error"), str) else ""
    if grant == "refresh_token" and code == "invalid_grant":
        return CredentialError(
            f"token endpoint {host} refused the refresh token of secret {name} (invalid_grant): "
            "it was revoked or has expired; consent again and store the new refresh_token there"
        )
    if code in _REFUSED:
        return CredentialError(
            f"token endpoint {host} refused the client of secret {name} ({code}): "
            "check its client_id and client_secret"
        )
    retryable = status >= 500 or status == 429
    detail = f" ({code})" if code else ""
    return CredentialError(f"token endpoint {host} answered {status}{detail}", retryable=retryable)
