"""The web console: approvals inbox, runs and their live timelines, kill switch.

Server-rendered HTML (Jinja2 templates and two static files in this package, no build step),
served by the API handler under ``/console`` on both clouds and the dev server. Imported only
when a console path is requested, so the API's cold start does not pay for it.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.api.handler import ApiHandler
    from core.api.http import ApiRequest, ApiResponse
    from core.console.app import Console

__all__ = ["handle_console"]

_consoles: weakref.WeakKeyDictionary[ApiHandler, Console] = weakref.WeakKeyDictionary()


def handle_console(api: ApiHandler, request: ApiRequest, correlation_id: str) -> ApiResponse:
    """Serve one console request with ``api``'s service, store and authenticator."""
    from core.console.app import Console

    console = _consoles.get(api)
    if console is None:
        console = _consoles[api] = Console(api)
    return console.handle(request, correlation_id)
