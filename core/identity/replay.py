"""Replay protection for capability tokens: each token id (``jti``) is accepted once.

A verifier asks a :class:`SeenJtiStore` to remember every jti it accepts until the token
expires; a second presentation within that time is refused. Memory is bounded twice over:
entries are dropped once their token has expired, and a hard cap (``max_entries`` live
entries) makes the store answer :attr:`JtiUse.FULL`, which verifiers treat as a refusal:
when it cannot remember, it does not accept (fail closed).

* :class:`MemoryJtiStore` — one process (the executor, a single service replica).
* :class:`RunStoreJtiStore` — shared by every replica through the ``RunStore``'s
  put-if-absent primitive (``put_idempotency``: memory, SQLite, DynamoDB, Azure Table).
"""

from __future__ import annotations

import heapq
import math
import threading
import uuid
from collections.abc import Mapping
from enum import Enum
from typing import TYPE_CHECKING, Any, Protocol

from core.errors import ConfigError, PaddockError

if TYPE_CHECKING:
    from core.state.base import RunStore

DEFAULT_MAX_ENTRIES = 100_000


class JtiUse(Enum):
    """What a store answers when a jti is presented."""

    FIRST = "first"
    """Not seen before: remembered until it expires; accept."""
    REPLAY = "replay"
    """Seen before and not yet expired; refuse."""
    FULL = "full"
    """The store holds its cap of live entries and cannot remember another; refuse."""


class SeenJtiStore(Protocol):
    """Remembers accepted token ids until they expire."""

    def use(self, jti: str, *, expires_at: float, now: float) -> JtiUse:
        """Record ``jti`` as used until ``expires_at`` unless it already is (atomic)."""
        ...


class _Expiries:
    """Expiry times of the live entries a process added, oldest first: the cap's ledger."""

    def __init__(self, max_entries: int) -> None:
        if max_entries < 1:
            raise ConfigError("a seen-jti store needs max_entries >= 1")
        self.max_entries = max_entries
        self._heap: list[tuple[float, str]] = []

    def purge(self, now: float) -> list[str]:
        """Drop entries expired at ``now``; returns their jtis."""
        gone: list[str] = []
        while self._heap and self._heap[0][0] <= now:
            gone.append(heapq.heappop(self._heap)[1])
        return gone

    def full(self) -> bool:
        return len(self._heap) >= self.max_entries

    def add(self, jti: str, expires_at: float) -> None:
        heapq.heappush(self._heap, (expires_at, jti))

    def __len__(self) -> int:
        return len(self._heap)


class MemoryJtiStore:
    """Seen jtis in this process, at most ``max_entries`` live at a time."""

    def __init__(self, *, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        self._expiries = _Expiries(max_entries)
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def use(self, jti: str, *, expires_at: float, now: float) -> JtiUse:
        with self._lock:
            for gone in self._expiries.purge(now):
                if self._seen.get(gone, math.inf) <= now:
                    del self._seen[gone]
            if self._seen.get(jti, -math.inf) > now:
                return JtiUse.REPLAY
            if self._expiries.full():
                return JtiUse.FULL
            self._seen[jti] = expires_at
            self._expiries.add(jti, expires_at)
            return JtiUse.FIRST

    def __len__(self) -> int:
        with self._lock:
            return len(self._seen)


class RunStoreJtiStore:
    """Seen jtis shared by several replicas through a ``RunStore``.

    Each jti becomes an idempotency record ``jti:<namespace>:<jti>`` holding a random value,
    written only if absent (or expired) and kept for the token's remaining life: whoever
    reads back its own value was first. DynamoDB removes expired records by its TTL attribute;
    the other backends overwrite them on reuse. Give every verifier its own ``namespace``
    (the executor and each service check the same token once each).

    The cap counts the entries this replica added that are still live, so one replica can
    never put more than ``max_entries`` records per token lifetime into the shared store.
    A store error is a refusal too (the verifier reports it).
    """

    def __init__(
        self, store: RunStore, *, namespace: str, max_entries: int = DEFAULT_MAX_ENTRIES
    ) -> None:
        if not namespace:
            raise ConfigError("a shared seen-jti store needs a namespace")
        self._store = store
        self._namespace = namespace
        self._expiries = _Expiries(max_entries)
        self._lock = threading.Lock()

    def use(self, jti: str, *, expires_at: float, now: float) -> JtiUse:
        with self._lock:
            self._expiries.purge(now)
            if self._expiries.full():
                return JtiUse.FULL
        mine = uuid.uuid4().hex
        ttl = max(1, math.ceil(expires_at - now))
        stored = self._store.put_idempotency(f"jti:{self._namespace}:{jti}", mine, ttl_seconds=ttl)
        if stored != mine:
            return JtiUse.REPLAY
        with self._lock:
            self._expiries.add(jti, expires_at)
        return JtiUse.FIRST

    def __len__(self) -> int:
        with self._lock:
            return len(self._expiries)


def replay_refusal(
    seen: SeenJtiStore, claims: Mapping[str, Any], *, now: float, leeway: float = 0.0
) -> str | None:
    """Why a verified token's claims may not be accepted again, or ``None`` (now recorded)."""
    jti = claims.get("jti")
    if not isinstance(jti, str) or not 0 < len(jti) <= 128:
        return "capability token has no usable jti"
    try:
        use = seen.use(jti, expires_at=float(claims["exp"]) + leeway, now=now)
    except PaddockError as exc:
        return f"capability token replay check unavailable: {exc.message}"
    if use is JtiUse.REPLAY:
        return "capability token already used (replay refused)"
    if use is JtiUse.FULL:
        return "capability token replay store is full (refused until entries expire)"
    return None
