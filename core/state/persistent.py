"""The shared half of every persistent ``RunStore``: serialisation, claim-check, versions.

A backend subclasses ``PersistentStore`` and implements a few primitives that each do one
conditional write or one read against its service (``_insert``, ``_commit``, ``_read_head``...).
Everything else — turning runs and steps into records and back, deciding which records go to the
payload store, kill-flag precedence, idempotency expiry — lives here once.
"""

from __future__ import annotations

import hashlib
import json
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import ClassVar

from core.domain import Run, RunStatus, Step, utcnow
from core.errors import BackendError
from core.state._records import Body, HeadRecord, StepRecord, sortable_time
from core.state.base import KILL_GLOBAL, Counter, RunPage, kill_scope_run, kill_scope_tenant
from core.state.payloads import PayloadStore


class PersistentStore(ABC):
    """Template for durable backends; implements the ``RunStore`` protocol.

    Subclasses set the limits of their service and implement the abstract primitives.
    """

    inline_limit: ClassVar[int]
    """Largest serialised head or step (in ``_size`` units) kept inside its record."""
    batch_limit: ClassVar[int]
    """Largest sum of inline sizes written by one atomic checkpoint."""
    max_records: ClassVar[int] = 100
    """Most records (head included) one atomic write may carry."""

    def __init__(self, *, payloads: PayloadStore | None = None) -> None:
        self._payloads = payloads

    # -- the RunStore contract -------------------------------------------------------------

    def create_run(self, run: Run) -> Run:
        stored = run.model_copy(update={"version": 1, "updated_at": utcnow()})
        head, steps = self._encode(stored, run.steps)
        self._insert(head, steps)
        return stored

    def get_run(self, run_id: str, *, with_steps: bool = True) -> Run:
        if not with_steps:
            return self._decode_head(self._read_head(run_id))
        head, steps = self._read_run(run_id)
        run = self._decode_head(head)
        run.steps = [
            Step.model_validate_json(self._text(s.body))
            for s in sorted(steps, key=lambda s: s.index)
        ]
        return run

    def checkpoint(self, run: Run, *, expected_version: int, steps: Sequence[Step] = ()) -> Run:
        new = run.model_copy(update={"version": expected_version + 1, "updated_at": utcnow()})
        head, records = self._encode(new, steps)
        self._commit(head, records, expected_version=expected_version)
        return new

    def list_runs(
        self,
        *,
        status: RunStatus | None = None,
        tenant: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> RunPage:
        if limit < 1:
            raise BackendError("limit must be at least 1", retryable=False)
        heads, nxt = self._query_heads(status=status, tenant=tenant, limit=limit, cursor=cursor)
        return RunPage(runs=[self._decode_head(h) for h in heads], cursor=nxt)

    def set_kill(self, scope: str, reason: str) -> None:
        self._write_kill(scope, reason)

    def clear_kill(self, scope: str) -> None:
        self._write_kill(scope, None)

    def kill_reason(self, *, tenant: str, run_id: str) -> str | None:
        scopes = [KILL_GLOBAL, kill_scope_tenant(tenant), kill_scope_run(run_id)]
        flags = self._read_kills(scopes)
        for scope in scopes:
            if scope in flags:
                return f"kill switch ({scope}): {flags[scope]}"
        return None

    def put_idempotency(self, key: str, value: str, *, ttl_seconds: int = 86400) -> str:
        now = time.time()
        return self._put_if_absent(key, value, now=now, expires=now + ttl_seconds)

    def get_counter(self, name: str) -> Counter:
        found = self._read_counter(name)
        if found is None:
            return Counter(name=name, value={}, etag=None)
        text, etag = found
        return Counter(name=name, value=json.loads(text), etag=etag)

    def put_counter(self, name: str, value: dict[str, float], *, etag: str | None) -> str:
        return self._write_counter(name, json.dumps(value, sort_keys=True), etag=etag)

    # -- shared logic -------------------------------------------------------------------------

    def _encode(self, run: Run, steps: Sequence[Step]) -> tuple[HeadRecord, list[StepRecord]]:
        if len(steps) + 1 > self.max_records:
            raise BackendError(
                f"at most {self.max_records - 1} steps per checkpoint (got {len(steps)})",
                retryable=False,
            )
        texts = [run.model_dump_json(exclude={"steps"})]
        texts += [s.model_dump_json() for s in steps]
        bodies = self._place(run.id, texts)
        head = HeadRecord(
            run_id=run.id,
            version=run.version,
            status=run.status,
            tenant=run.tenant,
            created=sortable_time(run.created_at),
            body=bodies[0],
        )
        records = [
            StepRecord(index=s.index, body=b) for s, b in zip(steps, bodies[1:], strict=True)
        ]
        return head, records

    def _place(self, run_id: str, texts: list[str]) -> list[Body]:
        """Inline what fits; claim-check what is too big, then the largest until the batch
        fits the service's transaction limit."""
        sizes = [self._size(t) for t in texts]
        if max(sizes) <= self.inline_limit and sum(sizes) <= self.batch_limit:
            return [Body(text=t) for t in texts]  # the usual case, on the hot path
        claimed = {i for i, size in enumerate(sizes) if size > self.inline_limit}
        inline_total = sum(s for i, s in enumerate(sizes) if i not in claimed)
        for i in sorted(range(len(texts)), key=lambda i: sizes[i], reverse=True):
            if inline_total <= self.batch_limit:
                break
            if i not in claimed:
                claimed.add(i)
                inline_total -= sizes[i]
        return [
            self._claim(run_id, t) if i in claimed else Body(text=t) for i, t in enumerate(texts)
        ]

    def _claim(self, run_id: str, text: str) -> Body:
        if self._payloads is None:
            raise BackendError(
                f"a record of run {run_id} exceeds the backend's limit and no "
                "payload store (bucket / blob container) is configured",
                retryable=False,
            )
        data = text.encode("utf-8")
        key = f"runs/{run_id}/{hashlib.sha256(data).hexdigest()}.json"
        self._payloads.put(key, data)
        return Body(claim=key)

    def _text(self, body: Body) -> str:
        if body.text is not None:
            return body.text
        if body.claim is None or self._payloads is None:
            raise BackendError(
                "record has neither inline body nor a readable claim", retryable=False
            )
        return self._payloads.get(body.claim).decode("utf-8")

    def _decode_head(self, head: HeadRecord) -> Run:
        return Run.model_validate_json(self._text(head.body))

    @staticmethod
    def _size(text: str) -> int:
        """The size the service counts; UTF-8 bytes unless a backend says otherwise."""
        return len(text.encode("utf-8"))

    # -- primitives: one round trip each where the service allows ----------------------------

    @abstractmethod
    def _insert(self, head: HeadRecord, steps: list[StepRecord]) -> None:
        """Write a new run atomically; ``ConflictError`` when the run exists."""

    @abstractmethod
    def _commit(self, head: HeadRecord, steps: list[StepRecord], *, expected_version: int) -> None:
        """Write steps and head atomically if the stored version is ``expected_version``;
        ``ConflictError`` otherwise, ``NotFoundError`` when there is no such run."""

    @abstractmethod
    def _read_head(self, run_id: str) -> HeadRecord:
        """The head; ``NotFoundError`` when missing."""

    @abstractmethod
    def _read_run(self, run_id: str) -> tuple[HeadRecord, list[StepRecord]]:
        """The head, then the steps (read after the head, so never older than it)."""

    @abstractmethod
    def _query_heads(
        self, *, status: RunStatus | None, tenant: str | None, limit: int, cursor: str | None
    ) -> tuple[list[HeadRecord], str | None]:
        """Newest first; the cursor is opaque to callers."""

    @abstractmethod
    def _write_kill(self, scope: str, reason: str | None) -> None:
        """Raise (``reason``) or lower (``None``) one flag."""

    @abstractmethod
    def _read_kills(self, scopes: list[str]) -> dict[str, str]:
        """The raised flags among ``scopes``, scope -> reason."""

    @abstractmethod
    def _put_if_absent(self, key: str, value: str, *, now: float, expires: float) -> str:
        """Store unless an unexpired record exists; the value that is stored now."""

    @abstractmethod
    def _read_counter(self, name: str) -> tuple[str, str] | None:
        """(JSON text, etag) or ``None``."""

    @abstractmethod
    def _write_counter(self, name: str, text: str, *, etag: str | None) -> str:
        """Conditional write; the new etag, ``ConflictError`` when stale."""
