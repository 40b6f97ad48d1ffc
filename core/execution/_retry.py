"""When a call may be tried again, and how long to wait first."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})
RETRY_AFTER_STATUS = frozenset({429, 503})


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date).

    A date in the past gives ``0.0``; an unreadable value gives ``None``.
    """
    if value is None:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now or datetime.now(UTC)
    return max(0.0, (when - current).total_seconds())


def backoff_delay(attempt: int, base: float, cap: float) -> float:
    """Exponential backoff with jitter: about ``base * 2**(attempt-1)``, at most ``cap``.

    ``attempt`` is the number of the attempt that just failed (1 for the first).
    """
    delay = min(cap, base * float(2 ** (attempt - 1)))
    return delay * random.uniform(0.5, 1.0)
