from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator

import pytest

from core.execution import CallContext, HttpExecutor
from paddock.local.servers import LocalServer

from .backend import Backend


@pytest.fixture(scope="session")
def _backend_server() -> Iterator[tuple[Backend, LocalServer]]:
    backend = Backend()
    with LocalServer(backend.app, name="exec-backend") as server:
        yield backend, server


@pytest.fixture(scope="session")
def _other_server() -> Iterator[tuple[Backend, LocalServer]]:
    backend = Backend()
    with LocalServer(backend.app, name="exec-other") as server:
        yield backend, server


@pytest.fixture
def backend(_backend_server: tuple[Backend, LocalServer]) -> Backend:
    _backend_server[0].reset()
    return _backend_server[0]


@pytest.fixture
def base_url(_backend_server: tuple[Backend, LocalServer]) -> str:
    return _backend_server[1].url + "/v1"


@pytest.fixture
def other(_other_server: tuple[Backend, LocalServer]) -> tuple[Backend, str]:
    """A second, unrelated host (another port on 127.0.0.1): it must never be reached."""
    _other_server[0].reset()
    return _other_server[0], _other_server[1].url


@pytest.fixture
def executor() -> Iterator[HttpExecutor]:
    with HttpExecutor(connect_timeout=1.0, read_timeout=2.0, backoff_base=0.01) as ex:
        yield ex


@pytest.fixture
def ctx() -> CallContext:
    return CallContext(run_id="run-1", step_index=2, call_index=0)


@pytest.fixture
def unaccepting_port() -> Iterator[int]:
    """A port whose listen backlog is full, so a new connection's SYN goes unanswered."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = int(listener.getsockname()[1])
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(("127.0.0.1", port))
        fillers.append(filler)
    time.sleep(0.05)
    yield port
    for sock in [*fillers, listener]:
        sock.close()
