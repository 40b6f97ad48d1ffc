"""SQLite ``RunStore``: the embedded default when state must survive the process.

Used by the CLI so that ``paddock approvals``, ``paddock approve`` and ``paddock kill`` can act
on runs another process started. Several processes may open one file: every conditional write
is one transaction begun with ``BEGIN IMMEDIATE``, which takes the file's write lock before it
reads the version it compares, so two writers cannot both see the old version (the loser waits
for the lock, up to ``timeout`` seconds, then sees the new version and gets ``ConflictError``).
"""

from __future__ import annotations

import sqlite3
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from core.domain import RunStatus
from core.errors import BackendError, ConfigError, ConflictError, NotFoundError
from core.state import _sqlite_schema as schema
from core.state._records import Body, HeadRecord, StepRecord, decode_cursor, encode_cursor
from core.state.persistent import PersistentStore

_HEAD_COLUMNS = "id, version, status, tenant, created_at, head"


class SqliteStore(PersistentStore):
    """One file in WAL mode; every primitive is one short transaction.

    Args:
        path: the database file (created with its folder when missing; files written by older
            versions are upgraded in place).
        timeout: seconds to wait for another process's write lock before giving up.
    """

    inline_limit = 1_000_000_000
    """SQLite's default largest string (``SQLITE_MAX_LENGTH``), in bytes."""
    batch_limit = sys.maxsize
    max_records = sys.maxsize

    def __init__(self, path: str | Path, *, timeout: float = 30.0) -> None:
        super().__init__()
        self.path = Path(path)
        self._lock = threading.Lock()
        self._db = self._open(timeout)

    def _open(self, timeout: float) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(
                str(self.path), check_same_thread=False, timeout=timeout, isolation_level=None
            )
        except (OSError, sqlite3.Error) as exc:
            raise BackendError(f"cannot open {self.path}: {exc}", retryable=False) from exc
        try:
            schema.prepare(db, self.path)  # first: a file it refuses is left as it was
            db.execute("PRAGMA journal_mode=WAL")
        except BaseException as exc:
            db.close()
            if isinstance(exc, sqlite3.OperationalError):  # locked, read-only, I/O
                raise self._translate(exc, "open") from exc
            if isinstance(exc, sqlite3.DatabaseError):  # "file is not a database" and kin
                raise ConfigError(f"{self.path} is not a Paddock state database: {exc}") from exc
            raise
        return db

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- runs --------------------------------------------------------------------------------

    def _insert(self, head: HeadRecord, steps: list[StepRecord]) -> None:
        with self._write("create") as db:
            try:
                db.execute(
                    f"INSERT INTO runs ({_HEAD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)", _row(head)
                )
            except sqlite3.IntegrityError as exc:
                raise ConflictError(f"run {head.run_id} already exists") from exc
            _upsert_steps(db, head.run_id, steps)

    def _commit(self, head: HeadRecord, steps: list[StepRecord], *, expected_version: int) -> None:
        with self._write("checkpoint") as db:
            changed = db.execute(
                "UPDATE runs SET version=?, status=?, tenant=?, created_at=?, head=? "
                "WHERE id=? AND version=?",
                (*_row(head)[1:], head.run_id, expected_version),
            ).rowcount
            if not changed:
                row = db.execute("SELECT version FROM runs WHERE id=?", (head.run_id,)).fetchone()
                if row is None:
                    raise NotFoundError(f"no run {head.run_id}")
                raise ConflictError(
                    f"run {head.run_id} is at version {row[0]}, not {expected_version}"
                )
            _upsert_steps(db, head.run_id, steps)

    def _read_head(self, run_id: str) -> HeadRecord:
        with self._read("get") as db:
            row = db.execute(f"SELECT {_HEAD_COLUMNS} FROM runs WHERE id=?", (run_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no run {run_id}")
        return _head(row)

    def _read_run(self, run_id: str) -> tuple[HeadRecord, list[StepRecord]]:
        with self._read("get") as db:
            db.execute("BEGIN")  # one snapshot for the head and its steps
            try:
                row = db.execute(
                    f"SELECT {_HEAD_COLUMNS} FROM runs WHERE id=?", (run_id,)
                ).fetchone()
                rows = db.execute(
                    "SELECT idx, body FROM steps WHERE run_id=? ORDER BY idx", (run_id,)
                ).fetchall()
            finally:
                db.execute("COMMIT")
        if row is None:
            raise NotFoundError(f"no run {run_id}")
        return _head(row), [StepRecord(index=i, body=Body(text=b)) for i, b in rows]

    def _query_heads(
        self, *, status: RunStatus | None, tenant: str | None, limit: int, cursor: str | None
    ) -> tuple[list[HeadRecord], str | None]:
        where: list[str] = []
        params: list[Any] = []
        if status is not None:
            where.append("status = ?")
            params.append(status.value)
        if tenant is not None:
            where.append("tenant = ?")
            params.append(tenant)
        if cursor:
            where.append("(created_at, id) < (?, ?)")
            params.extend(decode_cursor(cursor))
        sql = f"SELECT {_HEAD_COLUMNS} FROM runs"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created_at DESC, id DESC LIMIT ?"
        with self._read("list") as db:
            rows = db.execute(sql, (*params, limit + 1)).fetchall()
        heads = [_head(r) for r in rows[:limit]]
        return heads, encode_cursor(heads[-1]) if len(rows) > limit else None

    # -- kill flags, idempotency, counters -----------------------------------------------------

    def _write_kill(self, scope: str, reason: str | None) -> None:
        with self._write("kill") as db:
            if reason is None:
                db.execute("DELETE FROM kills WHERE scope=?", (scope,))
            else:
                db.execute("INSERT OR REPLACE INTO kills VALUES (?, ?)", (scope, reason))

    def _read_kills(self, scopes: list[str]) -> dict[str, str]:
        marks = ", ".join("?" * len(scopes))
        with self._read("kill") as db:
            rows = db.execute(f"SELECT scope, reason FROM kills WHERE scope IN ({marks})", scopes)
            return {str(s): str(r) for s, r in rows}

    def _put_if_absent(self, key: str, value: str, *, now: float, expires: float) -> str:
        with self._write("idempotency") as db:
            row = db.execute(
                "SELECT value FROM idem WHERE key=? AND (expires IS NULL OR expires > ?)",
                (key, now),
            ).fetchone()
            if row is not None:
                return str(row[0])
            db.execute("INSERT OR REPLACE INTO idem VALUES (?, ?, ?)", (key, value, expires))
        return value

    def _read_counter(self, name: str) -> tuple[str, str] | None:
        with self._read("counter") as db:
            row = db.execute("SELECT value, etag FROM counters WHERE name=?", (name,)).fetchone()
        return None if row is None else (str(row[0]), str(row[1]))

    def _write_counter(self, name: str, text: str, *, etag: str | None) -> str:
        new_etag = uuid.uuid4().hex
        with self._write("counter") as db:
            if etag is None:
                written = db.execute(
                    "INSERT OR IGNORE INTO counters VALUES (?, ?, ?)", (name, text, new_etag)
                ).rowcount
            else:
                written = db.execute(
                    "UPDATE counters SET value=?, etag=? WHERE name=? AND etag=?",
                    (text, new_etag, name, etag),
                ).rowcount
            if not written:
                raise ConflictError(f"counter {name} changed")
        return new_etag

    # -- transactions --------------------------------------------------------------------------

    @contextmanager
    def _write(self, what: str) -> Iterator[sqlite3.Connection]:
        """One write transaction holding the file's write lock from its first statement."""
        with self._lock, self._errors(what):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise

    @contextmanager
    def _read(self, what: str) -> Iterator[sqlite3.Connection]:
        with self._lock, self._errors(what):
            yield self._db

    @contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise self._translate(exc, what) from exc

    def _translate(self, exc: sqlite3.Error, what: str) -> BackendError:
        """A vendor error as ours; "database is locked" and I/O errors may pass, so retryable."""
        retryable = isinstance(exc, sqlite3.OperationalError)
        return BackendError(f"sqlite {what} on {self.path}: {exc}", retryable=retryable)


def _row(head: HeadRecord) -> tuple[str, int, str, str, str, str]:
    return (
        head.run_id,
        head.version,
        head.status.value,
        head.tenant,
        head.created,
        _inline(head.body),
    )


def _head(row: Any) -> HeadRecord:
    run_id, version, status, tenant, created, text = row
    return HeadRecord(
        run_id=run_id,
        version=int(version),
        status=RunStatus(status),
        tenant=tenant,
        created=created,
        body=Body(text=text),
    )


def _upsert_steps(db: sqlite3.Connection, run_id: str, steps: list[StepRecord]) -> None:
    db.executemany(
        "INSERT OR REPLACE INTO steps VALUES (?, ?, ?)",
        [(run_id, s.index, _inline(s.body)) for s in steps],
    )


def _inline(body: Body) -> str:
    if body.text is None:  # no payload store is configured, so the base never claims
        raise BackendError("the SQLite store keeps every record inline", retryable=False)
    return body.text
