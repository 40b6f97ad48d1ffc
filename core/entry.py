"""What the cloud handlers hold at module scope: cheap to import, built on first use.

Importing the API (pydantic models, the route table, the store and queue clients) costs more
than the bare Powertools or azure-functions handler it runs in. The handlers therefore import
only this module, ``core.api.http`` and ``core.api.paths`` (none of which import pydantic or
a client) and build the real ``ApiHandler`` / ``Worker`` from ``PADDOCK_*`` on the first
request, once per process.

This is also where the app is composed: the API with the web console mounted at ``/console``
(:func:`api_handler`), the console loaded on its first request.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from core.api.http import ApiRequest, ApiResponse

if TYPE_CHECKING:
    from core.api.deps import Deps
    from core.api.handler import ApiHandler, Mount
    from core.api.worker import Worker, WorkOutcome

T = TypeVar("T")


class RequestHandler(Protocol):
    """What an HTTP adapter calls: ``ApiHandler`` or ``LazyApi``."""

    def handle(self, request: ApiRequest) -> ApiResponse: ...


class MessageHandler(Protocol):
    """What a queue adapter calls: ``Worker`` or ``LazyWorker``."""

    def process_body(self, body: str | bytes) -> WorkOutcome: ...


class _Once(Generic[T]):
    def __init__(self, build: Callable[[], T]) -> None:
        self._build = build
        self._value: T | None = None
        self._lock = threading.Lock()

    def get(self) -> T:
        with self._lock:
            if self._value is None:
                self._value = self._build()
            return self._value


class LazyApi:
    """An ``ApiHandler`` built from the environment when the first request arrives."""

    def __init__(
        self, build: Callable[[], ApiHandler] | None = None, env: Mapping[str, str] | None = None
    ) -> None:
        self._api = _Once(build or (lambda: _api_from_env(env)))

    def handle(self, request: ApiRequest) -> ApiResponse:
        return self._api.get().handle(request)


class LazyWorker:
    """A ``Worker`` built from the environment when the first message arrives."""

    def __init__(
        self, build: Callable[[], Worker] | None = None, env: Mapping[str, str] | None = None
    ) -> None:
        self._worker = _Once(build or (lambda: _worker_from_env(env)))

    def process_body(self, body: str | bytes) -> WorkOutcome:
        return self._worker.get().process_body(body)


def console_mount(api: ApiHandler, request: ApiRequest, correlation_id: str) -> ApiResponse:
    """The web console, imported on its first request."""
    from core.console import handle_console

    return handle_console(api, request, correlation_id)


MOUNTS: dict[str, Mount] = {"/console": console_mount}
"""What the deployed app serves besides the API's routes."""


def api_handler(deps: Deps) -> ApiHandler:
    """The API of ``deps`` with the web console mounted: what every adapter serves."""
    from core.api.handler import ApiHandler

    return ApiHandler(deps, mounts=MOUNTS)


def _api_from_env(env: Mapping[str, str] | None) -> ApiHandler:
    from core.api.handler import ApiHandler

    return ApiHandler.from_env(env, mounts=MOUNTS)


def _worker_from_env(env: Mapping[str, str] | None) -> Worker:
    from core.api.worker import Worker

    return Worker.from_env(env)
