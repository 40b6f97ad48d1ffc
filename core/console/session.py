"""Console sign-in: the API's bearer token kept in an HttpOnly cookie, CSRF tokens bound to it.

The console authenticates exactly as the API does: the cookie holds the bearer JWT and every
request passes it through the same ``Authenticator`` (signature, issuer, audience, expiry,
tenant, roles). Form posts carry a CSRF token derived from the session token, which a page on
another origin can neither read nor compute; browsers' ``Origin`` / ``Sec-Fetch-Site`` headers
are checked as well, and the cookie is ``SameSite=Strict``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from core.api.auth import Authenticator, Principal
from core.api.http import ApiRequest
from core.config import Settings

COOKIE = "paddock_console"
MAX_SESSION_SECONDS = 12 * 3600
_CSRF_CONTEXT = b"paddock-console-csrf\0"


class ConsoleDenied(Exception):
    """A console request that must not proceed: rendered as an HTML error page."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Session:
    """A signed-in console user: the API principal and the bearer token it came from."""

    principal: Principal
    token: str

    @property
    def csrf(self) -> str:
        return csrf_token(self.token)

    def check_csrf(self, given: str | None) -> None:
        if not given or not hmac.compare_digest(given, self.csrf):
            raise ConsoleDenied(403, "The form has expired or did not come from this console "
                                     "(CSRF check failed). Reload the page and try again.")


def csrf_token(session_token: str) -> str:
    """A per-session form token: a hash of the (HttpOnly) session token."""
    digest = hashlib.sha256(_CSRF_CONTEXT + session_token.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def read_cookie(request: ApiRequest, name: str = COOKIE) -> str | None:
    raw = request.header("cookie")
    if not raw:
        return None
    for part in raw.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name and value:
            return value
    return None


def current_session(request: ApiRequest, authenticator: Authenticator) -> Session | None:
    """The signed-in user, or ``None`` when there is no session cookie.

    Raises the authenticator's ``ApiError`` (401/403/503) for a cookie whose token is no
    longer accepted (expired, another issuer, no tenant...).
    """
    token = read_cookie(request)
    if token is None:
        return None
    principal = authenticator.authenticate(f"Bearer {token}")
    return Session(principal=principal, token=token)


def session_cookie(token: str, *, secure: bool) -> str:
    """``Set-Cookie`` for a session with ``token``; it lives no longer than the token.

    No ``Path``: the browser scopes the cookie to the console's own directory, whatever
    prefix (API stage, dev-server adapter) the console is served under.
    """
    max_age = max(0, min(_seconds_left(token), MAX_SESSION_SECONDS))
    flags = "; Secure" if secure else ""
    return f"{COOKIE}={token}; Max-Age={max_age}; HttpOnly; SameSite=Strict{flags}"


def clear_cookie(*, secure: bool) -> str:
    flags = "; Secure" if secure else ""
    return f"{COOKIE}=; Max-Age=0; HttpOnly; SameSite=Strict{flags}"


def check_same_origin(request: ApiRequest) -> None:
    """Refuse a state-changing request that a browser says came from another site."""
    fetch_site = (request.header("sec-fetch-site") or "").lower()
    if fetch_site and fetch_site not in ("same-origin", "none"):
        raise ConsoleDenied(403, "This form was sent from another site; it was refused.")
    origin = request.header("origin")
    if origin is None:
        return
    host = request.header("x-forwarded-host") or request.header("host")
    if origin == "null" or host is None or urlsplit(origin).netloc.lower() != host.lower():
        raise ConsoleDenied(403, "This form was sent from another origin; it was refused.")


def dev_sign_in_allowed(settings: Settings) -> bool:
    """Dev sign-in works only in local mode against a local issuer on this machine."""
    if not settings.local_mode or not settings.auth_issuer:
        return False
    parts = urlsplit(settings.auth_issuer)
    return parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost")


def loopback_host(request: ApiRequest) -> bool:
    """Whether the browser addressed this machine by a loopback name (``Host`` and any
    ``X-Forwarded-Host``): a DNS-rebound page on another name cannot use the dev sign-in."""
    for name in ("host", "x-forwarded-host"):
        value = request.header(name)
        if value is None and name == "x-forwarded-host":
            continue
        try:
            host = urlsplit("//" + (value or "")).hostname
        except ValueError:
            return False
        if host not in ("127.0.0.1", "localhost", "::1"):
            return False
    return True


def _seconds_left(token: str) -> int:
    """Seconds until the token's ``exp`` (already verified by the authenticator)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return int(claims["exp"]) - int(time.time())
    except (IndexError, ValueError, KeyError, TypeError):
        return 0
