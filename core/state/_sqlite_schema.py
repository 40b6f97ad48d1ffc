"""The SQLite store's schema, its version (``PRAGMA user_version``) and the upgrade of files
written by older versions.

Version 0 is the layout before the store moved onto ``PersistentStore``: ``created_at`` held
``datetime.isoformat()`` (which sorts wrongly across UTC offsets) and the listing indexes ended
at ``created_at``. Version 1 keeps the same tables, stores ``created_at`` as fixed-width UTC
text and indexes ``(…, created_at, id)`` for keyset pages.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

from core.errors import ConfigError
from core.state._records import sortable_time

VERSION = 1

_TABLES = """
CREATE TABLE IF NOT EXISTS runs (id TEXT PRIMARY KEY, version INTEGER NOT NULL,
  status TEXT NOT NULL, tenant TEXT NOT NULL, created_at TEXT NOT NULL, head TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS steps (run_id TEXT NOT NULL, idx INTEGER NOT NULL, body TEXT NOT NULL,
  PRIMARY KEY (run_id, idx));
CREATE TABLE IF NOT EXISTS kills (scope TEXT PRIMARY KEY, reason TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS idem (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires REAL);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value TEXT NOT NULL, etag TEXT);
"""

_INDEXES = """
DROP INDEX IF EXISTS runs_status;
DROP INDEX IF EXISTS runs_tenant;
CREATE INDEX IF NOT EXISTS runs_created ON runs(created_at, id);
CREATE INDEX IF NOT EXISTS runs_status_created ON runs(status, created_at, id);
CREATE INDEX IF NOT EXISTS runs_tenant_created ON runs(tenant, created_at, id);
"""

_OURS = {"runs", "steps", "kills", "idem", "counters"}
_RUN_COLUMNS = ["id", "version", "status", "tenant", "created_at", "head"]


def prepare(db: sqlite3.Connection, path: Path) -> None:
    """Create or upgrade the schema, once, whichever process gets there first.

    Raises ``ConfigError`` (one line, naming the file) for a file this version cannot use.
    """
    if _version(db) == VERSION:
        return
    db.execute("BEGIN IMMEDIATE")  # another process may be preparing the same file
    try:
        found = _version(db)
        if found > VERSION:
            raise ConfigError(
                f"{path} was written by a newer Paddock (state schema {found}; this version "
                f"reads up to {VERSION}): upgrade Paddock or move the file aside"
            )
        if found < VERSION:
            _upgrade_from_0(db, path)
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _version(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def _upgrade_from_0(db: sqlite3.Connection, path: Path) -> None:
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if not tables <= _OURS:
        raise ConfigError(f"{path} is not a Paddock state database (tables: {sorted(tables)})")
    if "runs" in tables:
        columns = [r[1] for r in db.execute("PRAGMA table_info(runs)")]
        if columns != _RUN_COLUMNS:
            raise ConfigError(f"{path} is not a Paddock state database (runs: {columns})")
        _normalise_created(db, path)
    _run_script(db, _TABLES + _INDEXES)
    db.execute(f"PRAGMA user_version = {VERSION}")


def _normalise_created(db: sqlite3.Connection, path: Path) -> None:
    """Rewrite version 0's ``isoformat()`` text as sortable UTC text."""
    rows = db.execute("SELECT id, created_at FROM runs").fetchall()
    try:
        fixed = [(sortable_time(datetime.fromisoformat(c)), i) for i, c in rows]
    except ValueError as exc:
        raise ConfigError(f"{path}: cannot upgrade a run's created_at: {exc}") from exc
    db.executemany("UPDATE runs SET created_at=? WHERE id=?", fixed)


def _run_script(db: sqlite3.Connection, script: str) -> None:
    """``executescript`` would commit the open transaction first; run statement by statement."""
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)
