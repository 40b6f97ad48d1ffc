"""The console's OpenID Connect sign-in pages: off to the provider, and back.

See :mod:`core.console.oidc` for the flow and what is checked.
"""

from __future__ import annotations

from core.api.http import ApiResponse
from core.console.app import Console, Page, html, redirect
from core.console.oidc import FLOW_COOKIE, OidcClient
from core.console.session import ConsoleDenied, read_cookie

_CONTINUE = (
    b'<!doctype html><html lang="en"><head><meta charset="utf-8">'
    b'<meta http-equiv="refresh" content="0;url=inbox"><title>Signed in</title></head>'
    b'<body><p>Signed in. <a href="inbox">Continue to the inbox</a>.</p></body></html>'
)
"""The callback answers with a page that moves on by itself rather than a redirect: the
provider's redirect here was a cross-site navigation, and a browser withholds the
``SameSite=Strict`` session cookie from every request of that redirect chain. The refresh is
a navigation this console's own page starts, so the cookie goes with it."""


def oidc_start(console: Console, page: Page) -> ApiResponse:
    """``GET /console/signin-oidc``: a new flow, and the browser off to the provider."""
    client = _client(console)
    location, cookie = client.start()
    return redirect(location, {"set-cookie": cookie})


def oidc_callback(console: Console, page: Page) -> ApiResponse:
    """``GET /console/callback``: the provider's answer checked; a session cookie set."""
    client = _client(console)
    query = {k: v for k, v in page.request.query.items() if isinstance(v, str)}
    principal = client.finish(query, read_cookie(page.request, FLOW_COOKIE))
    return html(200, _CONTINUE, {"set-cookie": client.session_cookie(principal)})


def _client(console: Console) -> OidcClient:
    client = console.oidc
    if client is None:
        raise ConsoleDenied(404, "This console has no single sign-on configured.")
    return client
