"""Shared limits on every backend (memory, SQLite, DynamoDB on moto, Table on Azurite):
concurrent workers never take more than a bucket holds, nor more slots than the cap."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from core.ratelimit import Limit, RateLimiter, Slots, window_limit
from core.state.base import RunStore

WORKERS = 6


class FrozenClock:
    def __init__(self) -> None:
        self.now = 5_000.0

    def __call__(self) -> float:
        return self.now


def race(worker: Callable[[int], None]) -> None:
    barrier = threading.Barrier(WORKERS)
    errors: list[BaseException] = []

    def run(n: int) -> None:
        barrier.wait()
        try:
            worker(n)
        except BaseException as exc:  # surfaced below, with the worker's own traceback
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def test_concurrent_workers_never_take_more_than_the_bucket(store: RunStore) -> None:
    clock = FrozenClock()  # no refill: every grant comes out of the 20 units
    limiter = RateLimiter(store, clock=clock, max_attempts=500)
    limit = Limit("tool:erp", capacity=20, per_seconds=60)
    granted: list[float] = []
    denied: list[float] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        for _ in range(6):
            grant = limiter.try_acquire(limit, 1)
            with lock:
                (granted if grant.granted else denied).append(grant.retry_after)

    race(worker)
    assert len(granted) == 20
    assert len(denied) == WORKERS * 6 - 20
    assert all(wait > 0 for wait in denied)
    assert store.get_counter("ratelimit:tool:erp").value["tokens"] == pytest.approx(0)


def test_concurrent_multi_bucket_grants_stay_all_or_nothing(store: RunStore) -> None:
    clock = FrozenClock()
    limiter = RateLimiter(store, clock=clock, max_attempts=500)
    rpm = Limit("llm:d:rpm", capacity=8)
    tpm = Limit("llm:d:tpm", capacity=500)
    granted: list[int] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        for _ in range(4):
            if limiter.try_acquire_all([(rpm, 1), (tpm, 100)]).granted:
                with lock:
                    granted.append(n)

    race(worker)
    assert len(granted) == 5  # tokens run out first: 5 x 100
    left = store.get_counter("ratelimit:llm:d:rpm").value["tokens"]
    assert left == pytest.approx(3)  # refused attempts gave their request back


def test_concurrent_workers_never_hold_more_slots_than_the_cap(store: RunStore) -> None:
    clock = FrozenClock()
    slots = Slots(store, clock=clock, lease_seconds=60, max_attempts=500)
    held: list[str] = []
    peak = [0]
    lock = threading.Lock()

    def worker(n: int) -> None:
        for i in range(3):
            holder = f"run-{n}-{i}"
            if slots.acquire("tenant:acme", holder, 2).granted:
                with lock:
                    held.append(holder)
                    peak[0] = max(peak[0], len(held))
                with lock:
                    held.remove(holder)
                slots.release("tenant:acme", holder)

    race(worker)
    assert peak[0] <= 2
    assert slots.held("tenant:acme") == 0


def test_an_expired_lease_frees_its_slot(store: RunStore) -> None:
    clock = FrozenClock()
    slots = Slots(store, clock=clock, lease_seconds=30)
    assert slots.acquire("tenant:t", "dead-worker-run", 1).granted
    refused = slots.acquire("tenant:t", "run-b", 1)
    assert not refused.granted and refused.retry_after > 0
    assert slots.acquire("tenant:t", "dead-worker-run", 1).granted  # renewing is fine
    clock.now += 31
    assert slots.acquire("tenant:t", "run-b", 1).granted


def test_window_bucket_never_exceeds_the_provider_window() -> None:
    """Simulated: greedy takers on a window_limit bucket stay under the sliding window."""
    from core.state.memory import MemoryStore

    clock = FrozenClock()
    start = clock.now
    limiter = RateLimiter(MemoryStore(), clock=clock)
    limit = window_limit("llm:x:tpm", 10_000, window_seconds=10)
    taken: list[tuple[float, float]] = []
    while clock.now < start + 60:
        if limiter.try_acquire(limit, 300).granted:
            taken.append((clock.now, 300))
        else:
            clock.now += 0.05
    for t0, _ in taken:
        in_window = sum(a for t, a in taken if t0 <= t < t0 + 10)
        assert in_window <= 10_000
    used = sum(a for _, a in taken) / (10_000 * 6)
    assert used >= 0.9
