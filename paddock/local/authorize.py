"""The authorization code flow (with PKCE) for :class:`paddock.local.issuer.LocalIssuer`, so a
browser can sign in to the console on this machine as it does with Entra ID or Cognito.

``GET /authorize`` shows a page with one button per user the issuer knows; choosing one
redirects to the client's registered redirect URI with a one-time code. ``POST /token``
redeems the code (client, redirect URI and PKCE verifier checked) for an ID token carrying
that user's claims, shaped as the test wants them (Entra's ``roles``/``tid``, Cognito's
``cognito:groups``/``custom:tenant``).
"""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

CODE_SECONDS = 60
Signer = Callable[[dict[str, Any]], str]


@dataclass(frozen=True)
class Client:
    client_id: str
    redirect_uri: str
    secret: str | None = None


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str | None
    user: str
    expires: float


@dataclass
class CodeFlow:
    """Registered clients, the users one may sign in as, and outstanding codes."""

    issuer: Callable[[], str]
    sign: Signer
    clients: dict[str, Client] = field(default_factory=dict)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Login name -> the ID token claims besides iss/aud/iat/exp/nonce (``sub`` included)."""
    _codes: dict[str, _Grant] = field(default_factory=dict)

    def routes(self) -> list[Route]:
        return [
            Route("/authorize", self._authorize_page, methods=["GET"]),
            Route("/authorize", self._authorize, methods=["POST"]),
            Route("/token", self._token, methods=["POST"]),
        ]

    async def _authorize_page(self, request: Request) -> Response:
        q = dict(request.query_params)
        problem = self._check_request(q)
        if problem is not None:
            return HTMLResponse(f"<p>{html.escape(problem)}</p>", status_code=400)
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in q.items()
        )
        buttons = "".join(
            f'<button type="submit" name="login" value="{html.escape(u)}">'
            f"Sign in as {html.escape(u)}</button>"
            for u in self.users
        )
        body = (
            f"<!doctype html><title>Local sign-in</title><form method=post>{hidden}{buttons}</form>"
        )
        return HTMLResponse(body)

    async def _authorize(self, request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        problem = self._check_request(form)
        if problem is None and form.get("login") not in self.users:
            problem = "unknown user"
        if problem is not None:
            return HTMLResponse(f"<p>{html.escape(problem)}</p>", status_code=400)
        code = secrets.token_urlsafe(24)
        self._codes[code] = _Grant(
            client_id=form["client_id"],
            redirect_uri=form["redirect_uri"],
            challenge=form["code_challenge"],
            nonce=form.get("nonce"),
            user=form["login"],
            expires=time.time() + CODE_SECONDS,
        )
        answer = urlencode({"code": code, "state": form.get("state", "")})
        return RedirectResponse(f"{form['redirect_uri']}?{answer}", status_code=303)

    def _check_request(self, q: dict[str, str]) -> str | None:
        client = self.clients.get(q.get("client_id", ""))
        if client is None:
            return "unknown client_id"
        if q.get("redirect_uri") != client.redirect_uri:
            return "redirect_uri is not the one registered for this client"
        if q.get("response_type") != "code":
            return "only response_type=code"
        if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            return "PKCE with S256 is required"
        return None

    async def _token(self, request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        client_id, secret = _basic(request.headers.get("authorization"))
        client_id = client_id or form.get("client_id", "")
        secret = secret or form.get("client_secret")
        grant = self._codes.pop(form.get("code", ""), None)  # one use, whatever happens
        client = self.clients.get(client_id)
        if grant is None or grant.expires < time.time() or client is None:
            return _error("invalid_grant")
        if client.secret is not None and secret != client.secret:
            return _error("invalid_client", 401)
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        if (
            grant.client_id != client_id
            or grant.redirect_uri != form.get("redirect_uri")
            or not secrets.compare_digest(challenge.decode().rstrip("="), grant.challenge)
        ):
            return _error("invalid_grant")
        now = int(time.time())
        claims: dict[str, Any] = {
            **self.users[grant.user],
            "iss": self.issuer(),
            "aud": client_id,
            "iat": now,
            "exp": now + 3600,
        }
        if grant.nonce:
            claims["nonce"] = grant.nonce
        return JSONResponse(
            {"id_token": self.sign(claims), "token_type": "Bearer", "expires_in": 3600}
        )


def _basic(header: str | None) -> tuple[str, str | None]:
    if not header or not header.lower().startswith("basic "):
        return "", None
    from urllib.parse import unquote

    try:
        pair = base64.b64decode(header[6:]).decode()
    except ValueError:
        return "", None
    user, _, password = pair.partition(":")
    return unquote(user), unquote(password)


def _error(code: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": code}, status_code=status)
