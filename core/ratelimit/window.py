"""Token buckets that stay inside a provider's sliding-window limit.

A bucket of capacity ``b`` refilled at ``r`` per second admits at most ``b + r*W`` units in
any window of ``W`` seconds. A provider that allows ``L`` per ``W`` (90,000 tokens per minute)
is therefore never exceeded by a bucket with ``b = burst*L`` and ``r = (1-burst)*L/W``: the
long-run rate is ``1-burst`` of the limit and no window ever holds more than ``L``.
"""

from __future__ import annotations

from core.errors import ConfigError
from core.ratelimit.bucket import Limit


def window_limit(
    name: str, per_window: float, *, window_seconds: float = 60.0, burst: float = 0.05
) -> Limit:
    """The bucket for "``per_window`` units per ``window_seconds``" (``burst`` of it at once).

    Raises ``ConfigError`` for a non-positive limit or a burst outside (0, 1).
    """
    if per_window <= 0 or window_seconds <= 0:
        raise ConfigError(f"rate limit {name}: the limit and the window must be positive")
    if not 0 < burst < 1:
        raise ConfigError(f"rate limit {name}: burst must be between 0 and 1")
    capacity = burst * per_window
    rate = (1 - burst) * per_window / window_seconds
    return Limit(name=name, capacity=capacity, per_seconds=capacity / rate)
