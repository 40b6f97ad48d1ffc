"""Token buckets shared by every worker through the ``RunStore``'s counters.

A bucket is one small counter record ``{"tokens": t, "ts": seconds, ...}``. Taking from it is
a compare-and-set on the record's etag (a conditional write on DynamoDB, ``If-Match`` on Azure
Table), so workers on both clouds never grant more than the bucket holds.

Takers name their *party* (the tenant), and the record keeps a little per party:

- **a line**: a refused taker is told to come back at its turn in its party's line (each
  refusal moves the line on by what it asked for, at the bucket's rate), not all at the same
  moment: a thousand deferred runs of one fan-out come back spread out at the rate the bucket
  can serve them instead of all retrying and being refused again.
- **a share**: each party's recent use (decaying over the bucket's period) and a standing
  claim (what it last asked for, held for one period). A taker must leave in the bucket the
  claims of every party that has used *less* than it, so a tenant with one interactive run
  finds its next request's tokens waiting while another tenant's fan-out drains the rest;
  the lighter party is never held back by a heavier one's claim. Where the limit allows
  ``credit``, a party far below its share may even take before the tokens are back (down to
  that much debt, which the heavier parties wait out). With one party the bucket behaves as a
  plain token bucket.
"""

from __future__ import annotations

import math
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
    credit: float = 0.0
    """How far below empty a party well under its share may take (0: never)."""

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

    def try_acquire(self, limit: Limit, amount: float = 1.0, *, party: str = "") -> Grant:
        """Take ``amount`` now if the bucket holds it beyond the claims of lighter parties;
        otherwise say when ``party``'s turn comes."""
        if amount > limit.capacity:
            raise PaddockError(
                f"{amount} exceeds the whole capacity of {limit.name} ({limit.capacity})"
            )
        key = f"ratelimit:{limit.name}"
        for _ in range(self._attempts):
            counter = self._store.get_counter(key)
            now = self._clock()
            state = _Bucket.read(counter.value, limit, now)
            grant = state.take(party, amount, now)
            try:
                self._store.put_counter(key, state.value, etag=counter.etag)
            except ConflictError:
                continue
            return grant
        raise RateLimitContention(f"could not update rate-limit bucket {limit.name}")

    def try_acquire_all(self, wants: Sequence[tuple[Limit, float]], *, party: str = "") -> Grant:
        """Take from several buckets (e.g. requests and tokens per minute) or from none."""
        taken: list[tuple[Limit, float]] = []
        for limit, amount in wants:
            grant = self.try_acquire(limit, amount, party=party)
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
            state = _Bucket.read(counter.value, limit, now)
            state.tokens = min(limit.capacity, state.tokens + delta)
            try:
                self._store.put_counter(key, state.value, etag=counter.etag)
            except ConflictError:
                continue
            return Grant(granted=True, remaining=state.tokens)
        raise RateLimitContention(f"could not update rate-limit bucket {limit.name}")


_PARTY_FIELDS = ("line", "use", "used_at", "claim", "until")
MAX_PARTIES = 64
"""Parties one bucket record keeps (the most recently active): the record stays a few KB, under
an Azure Table property's 64 KB, however many tenants share a deployment. A party dropped from
it counts as new the next time it asks."""


class _Bucket:
    """One bucket record, refilled to ``now``: tokens and each party's line, use and claim
    (keys ``"<field>:<party>"``)."""

    def __init__(self, limit: Limit, tokens: float, parties: dict[str, dict[str, float]]) -> None:
        self.limit = limit
        self.tokens = tokens
        self.parties = parties
        self.now = 0.0

    @classmethod
    def read(cls, value: dict[str, float], limit: Limit, now: float) -> _Bucket:
        tokens = value.get("tokens", limit.capacity)
        last = value.get("ts", now)
        tokens = min(limit.capacity, tokens + max(0.0, now - last) * limit.rate)
        parties: dict[str, dict[str, float]] = {}
        for key, number in value.items():
            field, sep, party = key.partition(":")
            if sep and field in _PARTY_FIELDS:
                parties.setdefault(party, {})[field] = number
        bucket = cls(limit, tokens, parties)
        bucket.now = now
        for party in list(parties):
            if bucket._idle(party):
                del parties[party]
        return bucket

    @property
    def value(self) -> dict[str, float]:
        if len(self.parties) > MAX_PARTIES:
            recent = sorted(self.parties, key=lambda p: max(self.parties[p].values()))
            for party in recent[: len(self.parties) - MAX_PARTIES]:
                del self.parties[party]
        out = {"tokens": self.tokens, "ts": self.now}
        for party, fields in self.parties.items():
            out.update({f"{field}:{party}": n for field, n in fields.items()})
        return out

    def use(self, party: str) -> float:
        """``party``'s recent take, decaying with the bucket's period."""
        fields = self.parties.get(party, {})
        age = max(0.0, self.now - fields.get("used_at", self.now))
        return fields.get("use", 0.0) * math.exp(-age / self.limit.per_seconds)

    def take(self, party: str, amount: float, now: float) -> Grant:
        mine = self.use(party)
        reserved = sum(
            f.get("claim", 0.0)
            for p, f in self.parties.items()
            if p != party and f.get("until", 0.0) > now and self.use(p) < mine
        )
        fields = self.parties.setdefault(party, {})
        # A standing claim: this party's next request finds its tokens kept by heavier ones.
        fields["claim"], fields["until"] = amount, now + self.limit.per_seconds
        if self.tokens - reserved >= amount or self._on_credit(party, mine, amount):
            self.tokens -= amount
            fields["use"], fields["used_at"] = mine + amount, now
            return Grant(granted=True, remaining=self.tokens)
        # Refused: come back at this party's turn; the line moves on by what was asked for.
        start = max(
            now + (amount + reserved - self.tokens) / self.limit.rate, fields.get("line", 0)
        )
        fields["line"] = start + amount / self.limit.rate
        return Grant(granted=False, retry_after=start - now, remaining=self.tokens)

    def _on_credit(self, party: str, mine: float, amount: float) -> bool:
        """A party well below its share of the bucket's recent use (a tenant with one run
        while another fans out) may take before the tokens are back, down to the limit's
        ``credit``, which the heavier parties then wait out: its run is not deferred behind
        theirs. One party alone never takes on credit."""
        uses = [self.use(p) for p in self.parties if p != party]
        if not uses or self.tokens - amount < -self.limit.credit:
            return False
        return mine < sum(uses) / (2 * (len(uses) + 1))

    def _idle(self, party: str) -> bool:
        fields = self.parties[party]
        return (
            fields.get("until", 0.0) <= self.now
            and fields.get("line", 0.0) <= self.now
            and self.use(party) < 1e-3 * self.limit.capacity
        )
