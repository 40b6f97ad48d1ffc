"""One shared bucket, several tenants: refused takers come back spread out at the rate the
bucket serves (not all at once), and a tenant that has used little finds its next request's
tokens kept for it while another tenant's fan-out drains the rest."""

from __future__ import annotations

import json

import pytest

from core.ratelimit import Limit, RateLimiter
from core.ratelimit.bucket import MAX_PARTIES
from core.state.memory import MemoryStore

TPM = Limit("model:tpm", capacity=1000, per_seconds=10)  # 100 tokens a second
LENDING = Limit("model:tpm", capacity=1000, per_seconds=10, credit=1000)


class Clock:
    def __init__(self) -> None:
        self.now = 5_000.0

    def __call__(self) -> float:
        return self.now


def test_refused_takers_of_one_party_are_given_turns_at_the_bucket_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(MemoryStore(), clock=clock)
    assert limiter.try_acquire(TPM, 1000, party="acme").granted  # drained
    waits = [limiter.try_acquire(TPM, 200, party="acme").retry_after for _ in range(5)]
    # the first when 200 tokens are back, each next one 200 tokens (2 s) later
    assert waits == pytest.approx([2.0, 4.0, 6.0, 8.0, 10.0])
    # each coming back at its turn is served (nobody else took the tokens meanwhile)
    for wait in waits:
        clock.now = 5_000.0 + wait
        assert limiter.try_acquire(TPM, 200, party="acme").granted


def test_a_light_tenant_is_not_starved_by_a_heavy_tenants_fan_out() -> None:
    clock = Clock()
    limiter = RateLimiter(MemoryStore(), clock=clock)
    served = {"acme": 0, "globex": 0}
    refused = {"acme": 0, "globex": 0}
    globex_next = 0.0
    for tick in range(600):  # 60 s in steps of 0.1 s
        clock.now = 5_000.0 + tick / 10
        # acme's fan-out asks at every tick (many runs): it would take every token
        if limiter.try_acquire(TPM, 150, party="acme").granted:
            served["acme"] += 1
        else:
            refused["acme"] += 1
        if tick >= 100 and clock.now >= globex_next:  # globex: one run, 30 tokens a second
            grant = limiter.try_acquire(TPM, 30, party="globex")
            if grant.granted:
                served["globex"] += 1
                globex_next = clock.now + 1.0
            else:
                refused["globex"] += 1
                globex_next = clock.now + max(grant.retry_after, 0.1)
    # globex asked about 50 times; at most its first request waited
    assert served["globex"] >= 45 and refused["globex"] <= 1
    # acme still got the rest of the bucket: 100 tokens/s minus globex's 30 every second
    assert served["acme"] * 150 >= 0.9 * (60 * 100 + 1000 - served["globex"] * 30)


def test_the_heavier_partys_claim_does_not_hold_back_a_lighter_one() -> None:
    clock = Clock()
    limiter = RateLimiter(MemoryStore(), clock=clock)
    assert limiter.try_acquire(TPM, 900, party="acme").granted
    assert not limiter.try_acquire(TPM, 500, party="acme").granted  # acme now claims 500
    clock.now += 2.0  # 300 tokens back
    assert limiter.try_acquire(TPM, 250, party="globex").granted  # not blocked by acme's claim
    # but acme must now leave globex's standing claim (250) in the bucket
    clock.now += 4.0  # 50 + 400 = 450 tokens
    assert not limiter.try_acquire(TPM, 300, party="acme").granted
    assert limiter.try_acquire(TPM, 250, party="globex").granted


def test_one_party_behaves_as_a_plain_bucket_and_idle_parties_are_forgotten() -> None:
    clock = Clock()
    store = MemoryStore()
    limiter = RateLimiter(store, clock=clock)
    for n in range(20):
        assert limiter.try_acquire(TPM, 10, party=f"tenant-{n}").granted
    clock.now += 120.0  # twelve periods later nobody is active
    assert limiter.try_acquire(TPM, 10, party="acme").granted
    keys = store.get_counter(f"ratelimit:{TPM.name}").value
    assert not [k for k in keys if k.endswith(":tenant-3")]
    assert len(keys) <= 2 + 5


def test_a_light_party_takes_on_credit_down_to_what_the_limit_lends() -> None:
    clock = Clock()
    limiter = RateLimiter(MemoryStore(), clock=clock)
    assert limiter.try_acquire(LENDING, 1000, party="acme").granted  # acme drained it
    assert not limiter.try_acquire(LENDING, 100, party="acme").granted  # acme alone: no credit
    assert limiter.try_acquire(LENDING, 600, party="globex").granted  # light: on credit (-600)
    assert not limiter.try_acquire(LENDING, 100, party="acme").granted  # acme waits it out
    # globex is no longer far below its share: it waits too, and the debt stays bounded
    assert not limiter.try_acquire(LENDING, 600, party="globex").granted
    assert not limiter.try_acquire(LENDING, 500, party="initech").granted  # would pass -1000


def test_a_limit_that_lends_nothing_never_goes_below_empty() -> None:
    limiter = RateLimiter(MemoryStore(), clock=Clock())
    assert limiter.try_acquire(TPM, 1000, party="acme").granted
    assert not limiter.try_acquire(TPM, 100, party="globex").granted


def test_the_record_keeps_the_most_recently_active_parties_only() -> None:
    clock = Clock()
    store = MemoryStore()
    limiter = RateLimiter(store, clock=clock)
    for n in range(MAX_PARTIES + 40):
        clock.now += 0.01
        limiter.try_acquire(TPM, 1, party=f"tenant-{n}")
    value = store.get_counter(f"ratelimit:{TPM.name}").value
    kept = {k.partition(":")[2] for k in value if ":" in k}
    assert len(kept) == MAX_PARTIES
    assert f"tenant-{MAX_PARTIES + 39}" in kept and "tenant-0" not in kept
    assert len(json.dumps(value)) < 16_000
