"""In-memory ``RunStore``: the embedded default and the reference for the contract suite.

Built on ``PersistentStore`` like every other backend, so it behaves as they do (versions,
kill-flag precedence, idempotency expiry, cursors); its primitives are dictionaries of
records guarded by one lock.
"""

from __future__ import annotations

import sys
import threading
import uuid

from core.domain import RunStatus
from core.errors import ConflictError, NotFoundError
from core.state._records import HeadRecord, StepRecord, decode_cursor, encode_cursor
from core.state.persistent import PersistentStore


class MemoryStore(PersistentStore):
    """Keeps serialised records, so callers never share mutable state with the store."""

    inline_limit = sys.maxsize
    batch_limit = sys.maxsize
    max_records = sys.maxsize

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._heads: dict[str, HeadRecord] = {}
        self._steps: dict[str, dict[int, StepRecord]] = {}
        self._kills: dict[str, str] = {}
        self._idem: dict[str, tuple[str, float]] = {}
        self._counters: dict[str, tuple[str, str]] = {}

    @staticmethod
    def _size(text: str) -> int:
        return len(text)  # no limit to measure against: the cheapest size will do

    # -- runs --------------------------------------------------------------------------------

    def _insert(self, head: HeadRecord, steps: list[StepRecord]) -> None:
        with self._lock:
            if head.run_id in self._heads:
                raise ConflictError(f"run {head.run_id} already exists")
            self._heads[head.run_id] = head
            self._steps[head.run_id] = {s.index: s for s in steps}

    def _commit(self, head: HeadRecord, steps: list[StepRecord], *, expected_version: int) -> None:
        with self._lock:
            current = self._heads.get(head.run_id)
            if current is None:
                raise NotFoundError(f"no run {head.run_id}")
            if current.version != expected_version:
                raise ConflictError(
                    f"run {head.run_id} is at version {current.version}, not {expected_version}"
                )
            stored = self._steps[head.run_id]
            for step in steps:
                stored[step.index] = step
            self._heads[head.run_id] = head

    def _read_head(self, run_id: str) -> HeadRecord:
        with self._lock:
            head = self._heads.get(run_id)
        if head is None:
            raise NotFoundError(f"no run {run_id}")
        return head

    def _read_run(self, run_id: str) -> tuple[HeadRecord, list[StepRecord]]:
        with self._lock:
            head = self._heads.get(run_id)
            if head is None:
                raise NotFoundError(f"no run {run_id}")
            return head, list(self._steps[run_id].values())

    def _query_heads(
        self, *, status: RunStatus | None, tenant: str | None, limit: int, cursor: str | None
    ) -> tuple[list[HeadRecord], str | None]:
        after = decode_cursor(cursor) if cursor else None
        with self._lock:
            heads = list(self._heads.values())
        found = [
            h
            for h in heads
            if (status is None or h.status is status)
            and (tenant is None or h.tenant == tenant)
            and (after is None or (h.created, h.run_id) < after)
        ]
        found.sort(key=lambda h: (h.created, h.run_id), reverse=True)
        page = found[:limit]
        return page, encode_cursor(page[-1]) if len(found) > limit else None

    # -- kill flags, idempotency, counters -----------------------------------------------------

    def _write_kill(self, scope: str, reason: str | None) -> None:
        with self._lock:
            if reason is None:
                self._kills.pop(scope, None)
            else:
                self._kills[scope] = reason

    def _read_kills(self, scopes: list[str]) -> dict[str, str]:
        with self._lock:
            return {s: self._kills[s] for s in scopes if s in self._kills}

    def _put_if_absent(self, key: str, value: str, *, now: float, expires: float) -> str:
        with self._lock:
            existing = self._idem.get(key)
            if existing is not None and existing[1] > now:
                return existing[0]
            self._idem[key] = (value, expires)
            return value

    def _read_counter(self, name: str) -> tuple[str, str] | None:
        with self._lock:
            return self._counters.get(name)

    def _write_counter(self, name: str, text: str, *, etag: str | None) -> str:
        with self._lock:
            found = self._counters.get(name)
            if (found[1] if found else None) != etag:
                raise ConflictError(f"counter {name} changed")
            new_etag = uuid.uuid4().hex
            self._counters[name] = (text, new_etag)
            return new_etag
