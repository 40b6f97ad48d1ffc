"""Token buckets that stay inside a provider's sliding-window limit.

A bucket of capacity ``b`` refilled at ``r`` per second admits at most ``b + r*W`` units in
any window of ``W`` seconds. A provider that allows ``L`` per ``W`` (90,000 tokens per minute)
is therefore never exceeded by a bucket with ``b = burst*L`` and ``r = (1-burst)*L/W``: the
long-run rate is ``1-burst`` of the limit and no window ever holds more than ``L``. Credit a
bucket lends (``Limit.credit``) is carved out of ``b``, so the bound holds with it.
"""

from __future__ import annotations

from core.errors import ConfigError
from core.ratelimit.bucket import Limit


def window_limit(
    name: str,
    per_window: float,
    *,
    window_seconds: float = 60.0,
    burst: float = 0.05,
    credit_share: float = 0.0,
) -> Limit:
    """The bucket for "``per_window`` units per ``window_seconds``" (``burst`` of it at once).

    ``credit_share`` of the burst is kept back as credit for light parties
    (``core.ratelimit.bucket``): the bucket holds the rest, so burst plus credit still never
    exceed the window. Raises ``ConfigError`` for a non-positive limit or a burst or share
    outside (0, 1).
    """
    if per_window <= 0 or window_seconds <= 0:
        raise ConfigError(f"rate limit {name}: the limit and the window must be positive")
    if not 0 < burst < 1:
        raise ConfigError(f"rate limit {name}: burst must be between 0 and 1")
    if not 0 <= credit_share < 1:
        raise ConfigError(f"rate limit {name}: credit_share must be at least 0 and below 1")
    capacity = burst * per_window * (1 - credit_share)
    rate = (1 - burst) * per_window / window_seconds
    return Limit(
        name=name,
        capacity=capacity,
        per_seconds=capacity / rate,
        credit=burst * per_window * credit_share,
    )
