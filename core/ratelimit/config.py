"""Per-tool and per-host backend limits: the buckets for ``PADDOCK_TOOL_RPM`` and
``PADDOCK_HOST_RPM`` (parsed by ``core.settings.LimitSettings``).

A host is written as in the tool's base URL (``host`` or ``host:port``). Every worker on either
cloud shares the buckets through the ``RunStore``.
"""

from __future__ import annotations

import math

from core.errors import ConfigError
from core.ratelimit.admission import ToolLimits
from core.ratelimit.bucket import Limit, RateLimiter
from core.ratelimit.window import window_limit
from core.settings import LimitSettings
from core.state.base import RunStore

BURST = 0.05


def requests_per_minute(name: str, per_minute: float) -> Limit:
    """The bucket for ``per_minute`` requests: never more than that in any 60 s window.

    From 20 a minute up, 5% may go at once and the rest are spread out
    (:func:`~core.ratelimit.window.window_limit`); below that, one at a time, evenly spaced
    (a whole number of calls per minute: 7.5 allows 7; under 1, one every ``60 / per_minute``
    seconds).
    """
    if not (per_minute > 0 and math.isfinite(per_minute)):
        raise ConfigError(f"rate limit {name}: the limit must be a positive number")
    if BURST * per_minute >= 1:
        return window_limit(name, per_minute, burst=BURST)
    whole = math.floor(per_minute) if per_minute >= 1 else per_minute
    return Limit(name=name, capacity=1.0, per_seconds=60.0 / whole)


def tool_limits(settings: LimitSettings, store: RunStore) -> ToolLimits | None:
    """:class:`ToolLimits` of ``PADDOCK_TOOL_RPM`` / ``PADDOCK_HOST_RPM`` over ``store``'s
    shared counters; ``None`` when neither is set."""
    tools, hosts = settings.tool_rpm, settings.host_rpm
    if not tools and not hosts:
        return None
    return ToolLimits(
        RateLimiter(store),
        tools={n: requests_per_minute(f"tool:{n}:rpm", v) for n, v in tools.items()},
        hosts={h: requests_per_minute(f"host:{h}:rpm", v) for h, v in hosts.items()},
    )
