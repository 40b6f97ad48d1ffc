"""Shared token buckets: never more grants than the bucket allows, even under races."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from core.ratelimit import Limit, RateLimiter
from core.state.base import RunStore
from core.state.memory import MemoryStore
from core.state.sqlite import SqliteStore


@pytest.fixture(params=["memory", "sqlite"])
def local_store(request: pytest.FixtureRequest, tmp_path: Path) -> RunStore:
    if request.param == "memory":
        return MemoryStore()
    return SqliteStore(tmp_path / "s.db")


class FrozenClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_bucket_grants_capacity_then_says_when(local_store: RunStore) -> None:
    clock = FrozenClock()
    limiter = RateLimiter(local_store, clock=clock)
    tpm = Limit("model:tpm", capacity=1000, per_seconds=60)
    assert limiter.try_acquire(tpm, 600).granted
    denied = limiter.try_acquire(tpm, 600)
    assert not denied.granted
    assert denied.retry_after == pytest.approx(200 / (1000 / 60))
    clock.now += denied.retry_after
    assert limiter.try_acquire(tpm, 600).granted


def test_reconcile_takes_the_shortfall_and_refunds_overestimates(local_store: RunStore) -> None:
    clock = FrozenClock()
    limiter = RateLimiter(local_store, clock=clock)
    tpm = Limit("model:tpm", capacity=100, per_seconds=60)
    assert limiter.try_acquire(tpm, 50).granted
    limiter.reconcile(tpm, estimated=50, actual=90)  # the call used more than estimated
    assert not limiter.try_acquire(tpm, 20).granted  # only 10 left
    limiter.reconcile(tpm, estimated=40, actual=0)
    assert limiter.try_acquire(tpm, 20).granted


def test_all_or_nothing_across_buckets(local_store: RunStore) -> None:
    limiter = RateLimiter(local_store, clock=FrozenClock())
    rpm = Limit("model:rpm", capacity=10)
    tpm = Limit("model:tpm", capacity=100)
    assert limiter.try_acquire_all([(rpm, 1), (tpm, 90)]).granted
    assert not limiter.try_acquire_all([(rpm, 1), (tpm, 20)]).granted
    # the failed attempt gave its request back: 9 requests remain
    assert all(limiter.try_acquire(rpm, 1).granted for _ in range(9))
    assert not limiter.try_acquire(rpm, 1).granted


def run_race(store: RunStore, workers: int, attempts: int, capacity: int) -> int:
    clock = FrozenClock()  # no refill during the race: grants must equal capacity exactly
    limit = Limit("shared", capacity=capacity, per_seconds=3600)
    granted = []
    lock = threading.Lock()
    barrier = threading.Barrier(workers)

    def work() -> None:
        limiter = RateLimiter(store, clock=clock)
        barrier.wait()
        mine = sum(1 for _ in range(attempts) if limiter.try_acquire(limit, 1).granted)
        with lock:
            granted.append(mine)

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(granted)


def test_concurrent_workers_never_exceed_the_bucket(local_store: RunStore) -> None:
    assert run_race(local_store, workers=6, attempts=20, capacity=37) == 37
