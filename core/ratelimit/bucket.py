"""Token buckets shared by every worker through the ``RunStore``'s counters.

A bucket is one small counter record ``{"tokens": t, "ts": seconds}``. Taking from it is a
compare-and-set on the record's etag (a conditional write on DynamoDB, ``If-Match`` on Azure
Table), so workers on both clouds never grant more than the bucket holds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from core.errors import ConflictError, PaddockError
from core.state.base import RunStore


@dataclass(frozen=True)
class Limit:
    """``capacity`` units per ``per_seconds`` (e.g. 90,000 tokens per 60 s), refilled evenly."""

    name: str
    capacity: float
    per_seconds: float = 60.0

    @property
    def rate(self) -> float:
        return self.capacity / self.per_seconds


@dataclass(frozen=True)
class Grant:
    granted: bool
    retry_after: float = 0.0
    """Seconds until the amount asked for could be granted (0 when granted)."""
    remaining: float = 0.0


class RateLimitContention(PaddockError):
    """Too many workers raced for one bucket; try again shortly."""

    retryable = True


class RateLimiter:
    """Takes from shared buckets; never waits itself (callers re-enqueue with a delay)."""

    def __init__(
        self, store: RunStore, *, clock: Callable[[], float] = time.time, max_attempts: int = 50
    ) -> None:
        self._store = store
        self._clock = clock
        self._attempts = max_attempts

    def try_acquire(self, limit: Limit, amount: float = 1.0) -> Grant:
        """Take ``amount`` now if the bucket holds it; otherwise say when it will."""
        if amount > limit.capacity:
            raise PaddockError(
                f"{amount} exceeds the whole capacity of {limit.name} ({limit.capacity})"
            )
        return self._update(limit, -amount, all_or_nothing=True)

    def try_acquire_all(self, wants: Sequence[tuple[Limit, float]]) -> Grant:
        """Take from several buckets (e.g. requests and tokens per minute) or from none."""
        taken: list[tuple[Limit, float]] = []
        for limit, amount in wants:
            grant = self.try_acquire(limit, amount)
            if not grant.granted:
                for done_limit, done_amount in taken:
                    self.refund(done_limit, done_amount)
                return grant
            taken.append((limit, amount))
        return Grant(granted=True)

    def refund(self, limit: Limit, amount: float) -> None:
        """Give back what was taken and not used (capped at capacity)."""
        self._update(limit, amount, all_or_nothing=False)

    def reconcile(self, limit: Limit, estimated: float, actual: float) -> None:
        """After the call: give back an over-estimate or take the shortfall (may go negative,
        which delays the next grant: the debt is paid before anyone else is served)."""
        if actual != estimated:
            self._update(limit, estimated - actual, all_or_nothing=False)

    def _update(self, limit: Limit, delta: float, *, all_or_nothing: bool) -> Grant:
        key = f"ratelimit:{limit.name}"
        for _ in range(self._attempts):
            counter = self._store.get_counter(key)
            now = self._clock()
            tokens = counter.value.get("tokens", limit.capacity)
            last = counter.value.get("ts", now)
            tokens = min(limit.capacity, tokens + max(0.0, now - last) * limit.rate)
            if all_or_nothing and tokens + delta < 0:
                return Grant(
                    granted=False, retry_after=(-delta - tokens) / limit.rate, remaining=tokens
                )
            new_tokens = min(limit.capacity, tokens + delta)
            try:
                self._store.put_counter(key, {"tokens": new_tokens, "ts": now}, etag=counter.etag)
            except ConflictError:
                continue
            return Grant(granted=True, remaining=new_tokens)
        raise RateLimitContention(f"could not update rate-limit bucket {limit.name}")
