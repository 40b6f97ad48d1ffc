"""``core.retry``: Retry-After values, capped jittered backoff, and when to stop waiting."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.retry import backoff_delay, next_wait, parse_retry_after, retry_after_header

NOW = datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("7", 7.0),
        (" 2 ", 2.0),
        ("0.25", 0.25),
        ("-3", 0.0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
        ("Tue, 01 Jan 2030 12:00:30 GMT", 30.0),
        ("Tuesday, 01-Jan-30 12:01:00 GMT", 60.0),  # RFC 850, which HTTP still accepts
        ("Tue, 01 Jan 2030 12:00:30", 30.0),  # no zone: GMT, as HTTP dates always are
        ("soon", None),
        ("inf", None),
        ("nan", None),
        ("12 seconds", None),
        ("Tue, 32 Jan 2030 12:00:30 GMT", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == expected


def test_an_http_date_is_read_against_the_clock_by_default() -> None:
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert (parse_retry_after("Fri, 01 Jan 2100 00:00:00 GMT") or 0) > 3590


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after-ms": "1500", "retry-after": "2"}, 1.5),
        ({"retry-after-ms": "soon", "retry-after": "2"}, 2.0),
        ({"retry-after-ms": "-5"}, 0.0),
        ({"retry-after": "Tue, 01 Jan 2030 12:00:30 GMT"}, 30.0),
        ({"retry-after": "later"}, None),
        ({}, None),
    ],
)
def test_retry_after_header(headers: dict[str, str], expected: float | None) -> None:
    assert retry_after_header(headers, now=NOW) == expected


@pytest.mark.parametrize(
    ("attempt", "ceiling"), [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 5.0), (400, 5.0)]
)
def test_backoff_doubles_up_to_the_cap(attempt: int, ceiling: float) -> None:
    assert backoff_delay(attempt, base=0.5, cap=5.0, jitter=lambda: 0.0) == ceiling / 2
    assert backoff_delay(attempt, base=0.5, cap=5.0, jitter=lambda: 0.999999) == pytest.approx(
        ceiling, rel=1e-5
    )


def test_jitter_stays_between_half_and_all_of_the_ceiling_and_varies() -> None:
    delays = [backoff_delay(3, base=1.0, cap=30.0) for _ in range(500)]
    assert all(2.0 <= d < 4.0 for d in delays)
    assert len(set(delays)) > 400
    assert min(delays) < 2.2 and max(delays) > 3.8


def test_zero_base_never_waits() -> None:
    assert backoff_delay(5, base=0.0, cap=10.0) == 0.0


def wait(attempt: int, retry_after: float | None, attempts: int = 3) -> float | None:
    return next_wait(
        attempt,
        attempts=attempts,
        retry_after=retry_after,
        max_wait=10.0,
        base=1.0,
        cap=8.0,
        jitter=lambda: 0.0,
    )


def test_next_wait_backs_off_without_a_retry_after() -> None:
    assert [wait(1, None), wait(2, None)] == [0.5, 1.0]


def test_next_wait_honours_a_retry_after_up_to_max_wait() -> None:
    assert wait(1, 10.0) == 10.0
    assert wait(1, 0.0) == 0.0
    assert wait(1, 10.5) is None  # too long to sleep on: the caller hands it back


def test_next_wait_stops_after_the_last_attempt() -> None:
    assert wait(3, None) is None
    assert wait(3, 1.0) is None
    assert wait(1, None, attempts=1) is None
