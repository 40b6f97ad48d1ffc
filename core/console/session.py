"""Console sign-in: the API's bearer token kept in an HttpOnly cookie, CSRF tokens bound to it.

The console authenticates exactly as the API does: the cookie holds the bearer JWT and every
request passes it through the same ``Authenticator`` (signature, issuer, audience, expiry,
tenant, roles). Form posts carry a CSRF token derived from the session token, which a page on
another origin can neither read nor compute; browsers' ``Origin`` / ``Sec-Fetch-Site`` headers
are checked as well, and the cookie is ``SameSite=Strict``.

The sign-in form has no session yet, so it is bound to a pre-session cookie instead: the
sign-in page sets a random nonce in an HttpOnly cookie and puts an HMAC of it in the form. A
post without both (another site's form, a token copied from another browser) is refused, so
nobody can sign a victim's browser in to the attacker's account (login CSRF).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from core.api.auth import Authenticator, Principal
from core.api.http import ApiRequest
from core.settings import Settings

COOKIE = "paddock_console"
MAX_SESSION_SECONDS = 12 * 3600
_CSRF_CONTEXT = b"paddock-console-csrf\0"
SIGNIN_COOKIE = "paddock_console_signin"
SIGNIN_SECONDS = 2 * 3600
_SIGNIN_CONTEXT = b"paddock-console-signin\0"
_NONCE = re.compile(r"[A-Za-z0-9_-]{43}")


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
        if not given or not hmac.compare_digest(given.encode(), self.csrf.encode()):
            raise ConsoleDenied(
                403,
                "The form has expired or did not come from this console "
                "(CSRF check failed). Reload the page and try again.",
            )


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


def signin_cookie_name(*, secure: bool) -> str:
    """``__Host-`` outside local mode: a sibling subdomain cannot plant a nonce it knows."""
    return f"__Host-{SIGNIN_COOKIE}" if secure else SIGNIN_COOKIE


def signin_nonce(request: ApiRequest, *, secure: bool) -> tuple[str, str | None]:
    """The browser's sign-in nonce and, when it had none (or a malformed one), the
    ``Set-Cookie`` that gives it a new one."""
    nonce = read_cookie(request, signin_cookie_name(secure=secure))
    if nonce is not None and _NONCE.fullmatch(nonce):
        return nonce, None
    nonce = secrets.token_urlsafe(32)
    # __Host- cookies must have Path=/; the local one is scoped to the console's directory.
    flags = "; Path=/; Secure" if secure else ""
    return nonce, (
        f"{signin_cookie_name(secure=secure)}={nonce}; Max-Age={SIGNIN_SECONDS}; "
        f"HttpOnly; SameSite=Strict{flags}"
    )


def signin_token(nonce: str) -> str:
    """The sign-in form's CSRF token: an HMAC keyed with the (HttpOnly) nonce cookie."""
    digest = hmac.new(nonce.encode(), _SIGNIN_CONTEXT, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def check_signin_csrf(request: ApiRequest, given: str | None, *, secure: bool) -> None:
    """Refuse a sign-in post that is cross-site or lacks this browser's nonce and token."""
    check_same_origin(request)
    nonce = read_cookie(request, signin_cookie_name(secure=secure))
    if (
        not nonce
        or not given
        or not _NONCE.fullmatch(nonce)
        or not hmac.compare_digest(given.encode(), signin_token(nonce).encode())
    ):
        raise ConsoleDenied(
            403,
            "This sign-in form did not come from this console in this "
            "browser, or it has expired (CSRF check failed). Reload the "
            "sign-in page and try again.",
        )


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
    if not settings.local.enabled or not settings.auth.issuer:
        return False
    parts = urlsplit(settings.auth.issuer)
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
