"""In-memory ``RunStore``: the embedded default and the reference for the contract suite."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Sequence

from core.domain import Run, RunStatus, Step, utcnow
from core.errors import ConflictError, NotFoundError
from core.state.base import KILL_GLOBAL, Counter, RunPage, kill_scope_run, kill_scope_tenant


class MemoryStore:
    """Keeps serialised copies, so callers never share mutable state with the store."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._heads: dict[str, str] = {}
        self._steps: dict[str, dict[int, str]] = {}
        self._kills: dict[str, str] = {}
        self._idem: dict[str, tuple[str, float]] = {}
        self._counters: dict[str, tuple[dict[str, float], str]] = {}

    def create_run(self, run: Run) -> Run:
        with self._lock:
            if run.id in self._heads:
                raise ConflictError(f"run {run.id} already exists")
            stored = run.model_copy(update={"version": 1, "updated_at": utcnow()})
            self._heads[run.id] = stored.model_copy(update={"steps": []}).model_dump_json()
            self._steps[run.id] = {s.index: s.model_dump_json() for s in run.steps}
            return stored

    def get_run(self, run_id: str, *, with_steps: bool = True) -> Run:
        with self._lock:
            head = self._heads.get(run_id)
            if head is None:
                raise NotFoundError(f"no run {run_id}")
            run = Run.model_validate_json(head)
            if with_steps:
                steps = self._steps[run_id]
                run.steps = [Step.model_validate_json(steps[i]) for i in sorted(steps)]
            return run

    def checkpoint(self, run: Run, *, expected_version: int, steps: Sequence[Step] = ()) -> Run:
        with self._lock:
            head = self._heads.get(run.id)
            if head is None:
                raise NotFoundError(f"no run {run.id}")
            current = Run.model_validate_json(head).version
            if current != expected_version:
                raise ConflictError(f"run {run.id} is at version {current}, not {expected_version}")
            new = run.model_copy(update={"version": expected_version + 1, "updated_at": utcnow()})
            for step in steps:
                self._steps[run.id][step.index] = step.model_dump_json()
            self._heads[run.id] = new.model_copy(update={"steps": []}).model_dump_json()
            return new

    def list_runs(
        self,
        *,
        status: RunStatus | None = None,
        tenant: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> RunPage:
        with self._lock:
            heads = [Run.model_validate_json(h) for h in self._heads.values()]
        heads = [
            h
            for h in heads
            if (status is None or h.status is status) and (tenant is None or h.tenant == tenant)
        ]
        heads.sort(key=lambda r: (r.created_at, r.id), reverse=True)
        start = int(cursor) if cursor else 0
        page = heads[start : start + limit]
        nxt = str(start + limit) if start + limit < len(heads) else None
        return RunPage(runs=page, cursor=nxt)

    def set_kill(self, scope: str, reason: str) -> None:
        with self._lock:
            self._kills[scope] = reason

    def clear_kill(self, scope: str) -> None:
        with self._lock:
            self._kills.pop(scope, None)

    def kill_reason(self, *, tenant: str, run_id: str) -> str | None:
        with self._lock:
            for scope in (KILL_GLOBAL, kill_scope_tenant(tenant), kill_scope_run(run_id)):
                if scope in self._kills:
                    return f"kill switch ({scope}): {self._kills[scope]}"
            return None

    def put_idempotency(self, key: str, value: str, *, ttl_seconds: int = 86400) -> str:
        now = time.time()
        with self._lock:
            existing = self._idem.get(key)
            if existing is not None and existing[1] > now:
                return existing[0]
            self._idem[key] = (value, now + ttl_seconds)
            return value

    def get_counter(self, name: str) -> Counter:
        with self._lock:
            found = self._counters.get(name)
            if found is None:
                return Counter(name=name, value={}, etag=None)
            return Counter(name=name, value=dict(found[0]), etag=found[1])

    def put_counter(self, name: str, value: dict[str, float], *, etag: str | None) -> str:
        with self._lock:
            found = self._counters.get(name)
            current = found[1] if found else None
            if current != etag:
                raise ConflictError(f"counter {name} changed")
            new_etag = uuid.uuid4().hex
            self._counters[name] = (dict(value), new_etag)
            return new_etag
