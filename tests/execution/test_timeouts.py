"""Connect and read timeouts come back as errors, flagged retryable where that is safe."""

from __future__ import annotations

import time

from core.domain import SideEffect
from core.execution import CallContext, HttpExecutor
from paddock.local.servers import free_port

from .backend import BODY, Backend, Reply, make_tool


def test_connect_timeout(unaccepting_port: int, ctx: CallContext) -> None:
    tool = make_tool(f"http://127.0.0.1:{unaccepting_port}/v1")
    waits: list[float] = []
    with HttpExecutor(connect_timeout=0.2, max_attempts=2, sleep=waits.append) as executor:
        started = time.monotonic()
        result = executor.execute(tool, {}, ctx)
        elapsed = time.monotonic() - started

    assert result.status_code is None
    assert result.error == f"connect timeout after 0.2s to http://127.0.0.1:{unaccepting_port}"
    assert result.retryable is True
    assert result.attempts == 2
    assert len(waits) == 1
    assert 0.35 < elapsed < 2.0


def test_connection_refused_is_retryable_even_for_a_write(ctx: CallContext) -> None:
    # Nothing was sent, so even a keyless non-read call may be tried again.
    port = free_port()
    tool = make_tool(f"http://127.0.0.1:{port}", method="POST", params=(BODY,))
    with HttpExecutor(max_attempts=1) as executor:
        result = executor.execute(tool, {"body": {}}, ctx)

    assert result.error is not None
    assert result.error.startswith(f"connection to http://127.0.0.1:{port} failed")
    assert result.retryable is True


def test_read_timeout_on_a_get_is_retried(
    backend: Backend, base_url: str, ctx: CallContext
) -> None:
    backend.script("/v1/slow", Reply(200, {"late": True}, delay=0.6), Reply(200, {"ok": 1}))
    with HttpExecutor(read_timeout=0.2, backoff_base=0.01) as executor:
        result = executor.execute(make_tool(base_url, path="/slow"), {}, ctx)

    assert result.ok
    assert result.body == {"ok": 1}
    assert result.attempts == 2


def test_read_timeout_on_an_unkeyed_post_is_not_retried(
    backend: Backend, base_url: str, ctx: CallContext
) -> None:
    backend.script("/v1/slow", Reply(200, {"late": True}, delay=1.0))
    tool = make_tool(
        base_url, method="POST", path="/slow", params=(BODY,), side_effect=SideEffect.READ
    )
    with HttpExecutor(read_timeout=0.2) as executor:
        started = time.monotonic()
        result = executor.execute(tool, {"body": {}}, ctx)

    assert time.monotonic() - started < 0.9
    assert result.error == f"read timeout after 0.2s on {base_url}/slow"
    assert result.retryable is False
    assert result.attempts == 1
    assert len(backend.seen) == 1
