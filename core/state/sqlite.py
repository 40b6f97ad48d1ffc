"""SQLite ``RunStore``: the embedded default when state must survive the process.

Used by the CLI so that ``paddock approvals``, ``paddock approve`` and ``paddock kill`` can act
on runs another process started.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from core.domain import Run, RunStatus, Step, utcnow
from core.errors import ConflictError, NotFoundError
from core.state.base import KILL_GLOBAL, Counter, RunPage, kill_scope_run, kill_scope_tenant

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (id TEXT PRIMARY KEY, version INTEGER NOT NULL,
  status TEXT NOT NULL, tenant TEXT NOT NULL, created_at TEXT NOT NULL, head TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS runs_status ON runs(status, created_at);
CREATE INDEX IF NOT EXISTS runs_tenant ON runs(tenant, created_at);
CREATE TABLE IF NOT EXISTS steps (run_id TEXT NOT NULL, idx INTEGER NOT NULL, body TEXT NOT NULL,
  PRIMARY KEY (run_id, idx));
CREATE TABLE IF NOT EXISTS kills (scope TEXT PRIMARY KEY, reason TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS idem (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires REAL);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value TEXT NOT NULL, etag TEXT);
"""


class SqliteStore:
    """One file, WAL mode; every method is one short transaction."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            str(self.path), check_same_thread=False, timeout=30, isolation_level=None
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def create_run(self, run: Run) -> Run:
        stored = run.model_copy(update={"version": 1, "updated_at": utcnow()})
        with self._tx() as db:
            if db.execute("SELECT 1 FROM runs WHERE id=?", (run.id,)).fetchone():
                raise ConflictError(f"run {run.id} already exists")
            self._write_head(db, stored)
            self._write_steps(db, run.id, run.steps)
        return stored

    def get_run(self, run_id: str, *, with_steps: bool = True) -> Run:
        with self._lock:
            row = self._db.execute("SELECT head FROM runs WHERE id=?", (run_id,)).fetchone()
            if row is None:
                raise NotFoundError(f"no run {run_id}")
            run = Run.model_validate_json(row[0])
            if with_steps:
                rows = self._db.execute(
                    "SELECT body FROM steps WHERE run_id=? ORDER BY idx", (run_id,)
                ).fetchall()
                run.steps = [Step.model_validate_json(r[0]) for r in rows]
        return run

    def checkpoint(self, run: Run, *, expected_version: int, steps: Sequence[Step] = ()) -> Run:
        new = run.model_copy(update={"version": expected_version + 1, "updated_at": utcnow()})
        with self._tx() as db:
            row = db.execute("SELECT version FROM runs WHERE id=?", (run.id,)).fetchone()
            if row is None:
                raise NotFoundError(f"no run {run.id}")
            if row[0] != expected_version:
                raise ConflictError(f"run {run.id} is at version {row[0]}, not {expected_version}")
            self._write_head(db, new)
            self._write_steps(db, run.id, steps)
        return new

    def list_runs(
        self,
        *,
        status: RunStatus | None = None,
        tenant: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> RunPage:
        where, params = [], []
        if status is not None:
            where.append("status=?")
            params.append(status.value)
        if tenant is not None:
            where.append("tenant=?")
            params.append(tenant)
        sql = "SELECT head FROM runs"
        if where:
            sql += " WHERE " + " AND ".join(where)
        offset = int(cursor) if cursor else 0
        sql += " ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?"
        with self._lock:
            rows = self._db.execute(sql, (*params, limit + 1, offset)).fetchall()
        runs = [Run.model_validate_json(r[0]) for r in rows[:limit]]
        return RunPage(runs=runs, cursor=str(offset + limit) if len(rows) > limit else None)

    def set_kill(self, scope: str, reason: str) -> None:
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO kills VALUES (?, ?)", (scope, reason))

    def clear_kill(self, scope: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM kills WHERE scope=?", (scope,))

    def kill_reason(self, *, tenant: str, run_id: str) -> str | None:
        scopes = (KILL_GLOBAL, kill_scope_tenant(tenant), kill_scope_run(run_id))
        with self._lock:
            for scope in scopes:
                row = self._db.execute(
                    "SELECT reason FROM kills WHERE scope=?", (scope,)
                ).fetchone()
                if row is not None:
                    return f"kill switch ({scope}): {row[0]}"
        return None

    def put_idempotency(self, key: str, value: str, *, ttl_seconds: int = 86400) -> str:
        now = time.time()
        with self._tx() as db:
            row = db.execute("SELECT value, expires FROM idem WHERE key=?", (key,)).fetchone()
            if row is not None and row[1] > now:
                return str(row[0])
            db.execute(
                "INSERT OR REPLACE INTO idem VALUES (?, ?, ?)", (key, value, now + ttl_seconds)
            )
        return value

    def get_counter(self, name: str) -> Counter:
        with self._lock:
            row = self._db.execute(
                "SELECT value, etag FROM counters WHERE name=?", (name,)
            ).fetchone()
        if row is None:
            return Counter(name=name, value={}, etag=None)
        return Counter(name=name, value=json.loads(row[0]), etag=row[1])

    def put_counter(self, name: str, value: dict[str, float], *, etag: str | None) -> str:
        new_etag = uuid.uuid4().hex
        with self._tx() as db:
            row = db.execute("SELECT etag FROM counters WHERE name=?", (name,)).fetchone()
            if (row[0] if row else None) != etag:
                raise ConflictError(f"counter {name} changed")
            db.execute(
                "INSERT OR REPLACE INTO counters VALUES (?, ?, ?)",
                (name, json.dumps(value), new_etag),
            )
        return new_etag

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @staticmethod
    def _write_head(db: sqlite3.Connection, run: Run) -> None:
        head = run.model_copy(update={"steps": []}).model_dump_json()
        db.execute(
            "INSERT OR REPLACE INTO runs VALUES (?, ?, ?, ?, ?, ?)",
            (run.id, run.version, run.status.value, run.tenant, run.created_at.isoformat(), head),
        )

    @staticmethod
    def _write_steps(db: sqlite3.Connection, run_id: str, steps: Sequence[Step]) -> None:
        db.executemany(
            "INSERT OR REPLACE INTO steps VALUES (?, ?, ?)",
            [(run_id, s.index, s.model_dump_json()) for s in steps],
        )
