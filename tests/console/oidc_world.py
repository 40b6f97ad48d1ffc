"""A dev server whose console signs in with OpenID Connect against a local provider on
127.0.0.1 (``paddock.local.issuer`` with its authorization code flow)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from paddock.dev.server import DevServer
from paddock.local.issuer import LocalIssuer

CLIENT_ID = "paddock-console"
CLIENT_SECRET = "console-client-secret-0123456789"
SESSION_SECRET = "console-session-secret-0123456789abcdef"


@dataclass
class OidcWorld:
    dev: DevServer
    provider: LocalIssuer

    @property
    def console(self) -> str:
        return f"{self.dev.url}/aws/console"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def oidc_world(**env: str) -> Iterator[OidcWorld]:
    """The provider knows an Entra-shaped user (``bob``), a Cognito-shaped one (``carol``)
    and one without a tenant (``mallory``); ``env`` adds console settings."""
    port = free_port()
    redirect = f"http://127.0.0.1:{port}/aws/console/callback"
    with LocalIssuer() as provider:
        provider.register_client(CLIENT_ID, redirect, secret=CLIENT_SECRET)
        provider.add_user("bob", roles=["approver"], tid="acme", name="Bob")
        provider.add_user(
            "carol", **{"cognito:groups": ["paddock-admins"], "custom:tenant": "globex"}
        )
        provider.add_user("mallory", roles=["admin"])
        settings: dict[str, Any] = {
            "PADDOCK_CONSOLE_OIDC_ISSUER": provider.issuer,
            "PADDOCK_CONSOLE_OIDC_CLIENT_ID": CLIENT_ID,
            "PADDOCK_CONSOLE_OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "PADDOCK_CONSOLE_OIDC_REDIRECT_URI": redirect,
            "PADDOCK_CONSOLE_SESSION_SECRET": SESSION_SECRET,
            **env,
        }
        with DevServer(backend="memory", env=settings, port=port, poll_seconds=0.05) as dev:
            yield OidcWorld(dev, provider)
