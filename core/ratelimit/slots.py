"""Concurrency caps shared by every worker: a counted set of leases on one ``RunStore`` counter.

The counter's value maps each holder (a run id) to the time its lease ends. Taking a slot is a
compare-and-set that first drops expired leases, so a worker that died while holding one frees
it when the lease runs out. Used for "at most N runs of a tenant advancing at once".
"""

from __future__ import annotations

import time
from collections.abc import Callable

from core.errors import ConflictError
from core.ratelimit.bucket import Grant, RateLimitContention
from core.state.base import RunStore


class Slots:
    """Leased slots by key (``tenant:acme``), at most ``cap`` holders at a time.

    Args:
        store: the shared store.
        lease_seconds: how long a slot is held without a release (longer than one
            invocation's work).
        retry_after: the delay a refused holder is told to wait.
    """

    def __init__(
        self,
        store: RunStore,
        *,
        lease_seconds: float = 300.0,
        retry_after: float = 2.0,
        clock: Callable[[], float] = time.time,
        max_attempts: int = 50,
    ) -> None:
        self._store = store
        self._lease = lease_seconds
        self._retry_after = retry_after
        self._clock = clock
        self._attempts = max_attempts

    def acquire(self, key: str, holder: str, cap: int) -> Grant:
        """Take (or renew) ``holder``'s slot under ``key`` if fewer than ``cap`` are held."""
        name = f"slots:{key}"
        for _ in range(self._attempts):
            counter = self._store.get_counter(name)
            now = self._clock()
            live = {h: t for h, t in counter.value.items() if t > now}
            if holder not in live and len(live) >= cap:
                soonest = min(live.values()) - now
                return Grant(
                    granted=False, retry_after=min(self._retry_after, soonest), remaining=0
                )
            live[holder] = now + self._lease
            try:
                self._store.put_counter(name, live, etag=counter.etag)
            except ConflictError:
                continue
            return Grant(granted=True, remaining=float(cap - len(live)))
        raise RateLimitContention(f"could not update slots {key}")

    def release(self, key: str, holder: str) -> None:
        """Give ``holder``'s slot back; releasing one not held is fine."""
        name = f"slots:{key}"
        for _ in range(self._attempts):
            counter = self._store.get_counter(name)
            if holder not in counter.value:
                return
            live = {h: t for h, t in counter.value.items() if h != holder}
            try:
                self._store.put_counter(name, live, etag=counter.etag)
            except ConflictError:
                continue
            return
        raise RateLimitContention(f"could not release slot {key}")

    def held(self, key: str) -> int:
        """How many live leases ``key`` has now."""
        now = self._clock()
        return sum(1 for t in self._store.get_counter(f"slots:{key}").value.values() if t > now)
