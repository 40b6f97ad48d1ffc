"""How long to wait before trying a request again: Retry-After, and capped jittered backoff.

The HTTP executor and the model client share these rules. Whether a failure may be retried at
all (which statuses, which methods) stays with each caller.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

Jitter = Callable[[], float]
"""A random number in ``[0, 1)``; injectable so tests can pin the jitter."""


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delta-seconds or an HTTP date.

    A negative delay or a date in the past gives ``0.0``; an unreadable value gives ``None``.
    """
    if value is None:
        return None
    text = value.strip()
    seconds = _seconds(text)
    if seconds is not None:
        return seconds
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def retry_after_header(headers: Mapping[str, str], *, now: datetime | None = None) -> float | None:
    """Seconds asked for by lower-case response headers: ``retry-after-ms`` (which Azure sends,
    more precise) when readable, else ``retry-after``."""
    millis = headers.get("retry-after-ms")
    if millis is not None:
        seconds = _seconds(millis.strip())
        if seconds is not None:
            return seconds / 1000
    return parse_retry_after(headers.get("retry-after"), now=now)


def backoff_delay(
    attempt: int, *, base: float, cap: float, jitter: Jitter = random.random
) -> float:
    """Exponential backoff after failed attempt number ``attempt`` (1 for the first).

    The ceiling is ``base * 2**(attempt - 1)``, at most ``cap``; the delay is drawn between half
    the ceiling and the ceiling, so clients that failed together do not retry together.
    """
    ceiling = min(cap, base * 2.0 ** min(attempt - 1, 64))
    return ceiling * (0.5 + 0.5 * jitter())


def next_wait(
    attempt: int,
    *,
    attempts: int,
    retry_after: float | None,
    max_wait: float,
    base: float,
    cap: float,
    jitter: Jitter = random.random,
) -> float | None:
    """Seconds to wait after failed attempt ``attempt`` of ``attempts``, or ``None`` to stop.

    A ``retry_after`` the server asked for is waited when it is at most ``max_wait``; a longer
    one stops at once, so the caller can hand it back (a serverless worker should not sleep for
    minutes). Without one, the wait is ``backoff_delay``.
    """
    if attempt >= attempts:
        return None
    if retry_after is not None:
        return retry_after if retry_after <= max_wait else None
    return backoff_delay(attempt, base=base, cap=cap, jitter=jitter)


def _seconds(text: str) -> float | None:
    try:
        seconds = float(text)
    except ValueError:
        return None
    return max(0.0, seconds) if math.isfinite(seconds) else None
