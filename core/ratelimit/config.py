"""Per-tool and per-host backend limits from the environment.

``PADDOCK_TOOL_RPM`` and ``PADDOCK_HOST_RPM`` hold comma-separated ``name=N`` pairs, ``N``
requests per minute::

    PADDOCK_TOOL_RPM="create_purchase_order=30,get_stock=600"
    PADDOCK_HOST_RPM="erp.example.com=1200,127.0.0.1:8001=60"

A host is written as in the tool's base URL (``host`` or ``host:port``). Every worker on either
cloud shares the buckets through the ``RunStore``. A value that is not a positive, finite
number, a malformed pair or a name given twice raises ``ConfigError`` when the orchestrator is
built: a typo never switches a limit off.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from core.errors import ConfigError
from core.ratelimit.admission import ToolLimits
from core.ratelimit.bucket import Limit, RateLimiter
from core.ratelimit.window import window_limit
from core.state.base import RunStore

TOOL_RPM = "PADDOCK_TOOL_RPM"
HOST_RPM = "PADDOCK_HOST_RPM"
BURST = 0.05
_TOOL = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
_HOST = re.compile(r"^(?:\[[0-9a-f:.]+\]|[a-z0-9.-]{1,253})(?::[0-9]{1,5})?$")


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


def parse_rates(text: str, *, variable: str, hosts: bool = False) -> dict[str, float]:
    """``"a=30, b=1.5"`` -> ``{"a": 30.0, "b": 1.5}``; blank -> ``{}``.

    Raises ``ConfigError`` naming ``variable`` for anything else.
    """
    rates: dict[str, float] = {}
    if not text.strip():
        return rates
    pattern, kind = (_HOST, "host[:port]") if hosts else (_TOOL, "tool name")
    for item in text.split(","):
        name, sep, number = item.strip().rpartition("=")
        name = name.strip().lower() if hosts else name.strip()
        if not sep or not pattern.match(name):
            raise ConfigError(
                f"{variable}: {item.strip()!r} is not <{kind}>=<requests per "
                "minute> (pairs separated by commas)"
            )
        if name in rates:
            raise ConfigError(f"{variable}: {name!r} is given twice")
        try:
            value = float(number)
        except ValueError:
            value = -1.0
        if not (value > 0 and math.isfinite(value)):  # "nan" or "inf" would disable it
            raise ConfigError(
                f"{variable}: the limit of {name!r} must be a positive number "
                f"of requests per minute, not {number.strip()!r}"
            )
        rates[name] = value
    return rates


def tool_limits_from_env(env: Mapping[str, str], store: RunStore) -> ToolLimits | None:
    """:class:`ToolLimits` from ``PADDOCK_TOOL_RPM`` / ``PADDOCK_HOST_RPM`` over ``store``'s
    shared counters; ``None`` when neither is set."""
    tools = parse_rates(env.get(TOOL_RPM, ""), variable=TOOL_RPM)
    hosts = parse_rates(env.get(HOST_RPM, ""), variable=HOST_RPM, hosts=True)
    if not tools and not hosts:
        return None
    return ToolLimits(
        RateLimiter(store),
        tools={n: requests_per_minute(f"tool:{n}:rpm", v) for n, v in tools.items()},
        hosts={h: requests_per_minute(f"host:{h}:rpm", v) for h, v in hosts.items()},
    )
