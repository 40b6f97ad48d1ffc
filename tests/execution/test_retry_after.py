"""429/503 with Retry-After: wait when short, hand back ``retry_after`` when long."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from core.execution import CallContext, HttpExecutor

from .backend import Backend, Reply, make_tool


def http_date(seconds_from_now: float) -> str:
    return format_datetime(datetime.now(UTC) + timedelta(seconds=seconds_from_now), usegmt=True)


def test_429_retry_after_seconds_is_waited_then_succeeds(
    backend: Backend, base_url: str, ctx: CallContext
) -> None:
    backend.script(
        "/v1/things",
        Reply(429, {"error": "slow down"}, {"Retry-After": "1"}),
        Reply(200, {"items": []}),
    )
    with HttpExecutor(backoff_base=0.0) as executor:
        started = time.monotonic()
        result = executor.execute(make_tool(base_url), {}, ctx)
        elapsed = time.monotonic() - started

    assert result.ok and result.body == {"items": []}
    assert result.attempts == 2
    assert result.retry_after is None
    assert elapsed >= 0.95
    assert len(backend.seen) == 2


def test_503_retry_after_http_date_is_waited_then_succeeds(
    backend: Backend, base_url: str, ctx: CallContext
) -> None:
    backend.script(
        "/v1/things", Reply(503, None, {"Retry-After": http_date(3)}), Reply(200, {"items": [1]})
    )
    waits: list[float] = []
    with HttpExecutor(sleep=waits.append) as executor:
        result = executor.execute(make_tool(base_url), {}, ctx)

    assert result.ok and result.body == {"items": [1]}
    assert result.attempts == 2
    [wait] = waits
    assert 1.0 < wait <= 3.0  # the date has whole-second resolution


@pytest.mark.parametrize(
    ("as_date", "low", "high"),
    [
        (False, 120.0, 120.0),
        (True, 3590.0, 3600.0),
    ],
)
def test_a_long_retry_after_comes_back_for_the_queue(
    backend: Backend, base_url: str, ctx: CallContext, as_date: bool, low: float, high: float
) -> None:
    header = http_date(3600) if as_date else "120"
    backend.script("/v1/things", Reply(429, {"error": "quota"}, {"Retry-After": header}))
    waits: list[float] = []
    with HttpExecutor(max_retry_wait=5.0, sleep=waits.append) as executor:
        result = executor.execute(make_tool(base_url), {}, ctx)

    assert result.status_code == 429
    assert result.retry_after is not None and low <= result.retry_after <= high
    assert result.retryable is True
    assert result.attempts == 1
    assert waits == []
    assert len(backend.seen) == 1


def test_retry_after_on_the_last_attempt_is_reported(
    backend: Backend, base_url: str, ctx: CallContext
) -> None:
    backend.script("/v1/things", Reply(503, None, {"Retry-After": "0"}))
    with HttpExecutor(max_attempts=2) as executor:
        result = executor.execute(make_tool(base_url), {}, ctx)

    assert (result.status_code, result.attempts, result.retry_after) == (503, 2, 0.0)
    assert len(backend.seen) == 2


def test_azure_retry_after_ms_is_preferred_to_whole_seconds(
    backend: Backend, base_url: str, ctx: CallContext
) -> None:
    backend.script(
        "/v1/things",
        Reply(429, None, {"Retry-After": "1", "retry-after-ms": "250"}),
        Reply(200, {"items": []}),
    )
    waits: list[float] = []
    with HttpExecutor(sleep=waits.append) as executor:
        result = executor.execute(make_tool(base_url), {}, ctx)

    assert result.ok and waits == [0.25]
