"""A local OAuth2 token endpoint (RFC 6749 §4.4 and §6) for tests: real HTTP on 127.0.0.1.

It knows one client, grants client credentials and refresh tokens, can rotate refresh tokens
(the old one is revoked when a new one is issued), and records every request it answered.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from paddock.local.servers import LocalServer


@dataclass
class TokenEndpoint:
    client_id: str = "client-1"
    client_secret: str = "cs-1"
    expires_in: int = 3600
    rotate: bool = False
    delay: float = 0.0
    refresh_tokens: set[str] = field(default_factory=lambda: {"rt-0"})
    asked: list[dict[str, str]] = field(default_factory=list)
    issued: list[str] = field(default_factory=list)
    url: str = ""
    _counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def revoke_all(self) -> None:
        self.refresh_tokens.clear()

    async def token(self, request: Request) -> JSONResponse:
        form = {k: str(v) for k, v in (await request.form()).items()}
        header = request.headers.get("authorization", "")
        if header.startswith("Basic "):
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            form.update(basic_client=user, basic_secret=password)
        self.asked.append(form)
        if self.delay:
            await asyncio.sleep(self.delay)
        client = form.get("basic_client") or form.get("client_id")
        secret = form.get("basic_secret") or form.get("client_secret")
        if (client, secret) != (self.client_id, self.client_secret):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        answer: dict[str, object] = {}
        if form.get("grant_type") == "refresh_token":
            if form.get("refresh_token") not in self.refresh_tokens:
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            if self.rotate:
                self.refresh_tokens.discard(form["refresh_token"])
                fresh = f"rt-{len(self.issued) + 1}"
                self.refresh_tokens.add(fresh)
                answer["refresh_token"] = fresh
        elif form.get("grant_type") != "client_credentials":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        token = f"at-{next(self._counter)}"
        self.issued.append(token)
        answer.update(access_token=token, token_type="bearer", expires_in=self.expires_in)
        return JSONResponse(answer)


@contextmanager
def token_server(endpoint: TokenEndpoint | None = None) -> Iterator[TokenEndpoint]:
    endpoint = endpoint or TokenEndpoint()
    app = Starlette(routes=[Route("/auth/o2/token", endpoint.token, methods=["POST"])])
    with LocalServer(app, name="token-endpoint") as server:
        endpoint.url = server.url + "/auth/o2/token"
        yield endpoint
