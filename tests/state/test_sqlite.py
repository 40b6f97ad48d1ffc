"""What only the SQLite store does: several processes on one file, and files written by older
(or newer) versions of Paddock."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from core.domain import Run, RunStatus, Step
from core.errors import ConfigError
from core.state import _sqlite_schema
from core.state.base import kill_scope_run
from core.state.sqlite import SqliteStore

ROOT = Path(__file__).resolve().parents[2]

# One worker process: open the file (maybe creating it), create the run if nobody has yet,
# then take as many of ``rounds`` checkpoints as it can. Prints how many it won.
WORKER = """
import sys, time
from core.domain import Run, Step
from core.errors import ConflictError
from core.state.sqlite import SqliteStore

path, name, rounds, start = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
while time.time() < start:
    time.sleep(0.001)
store = SqliteStore(path)
try:
    store.create_run(Run(id="shared", goal="race"))
except ConflictError:
    pass
wins = 0
for _ in range(rounds):
    head = store.get_run("shared", with_steps=False)
    mine = Step(index=head.step_count, reasoning=name)
    try:
        store.checkpoint(
            head.model_copy(update={"step_count": head.step_count + 1}),
            expected_version=head.version,
            steps=[mine],
        )
    except ConflictError:
        continue
    wins += 1
print(wins)
"""


def test_processes_racing_on_one_new_file_never_both_win(tmp_path: Path) -> None:
    """Several processes open a file that does not exist yet, all at once, and race every
    checkpoint: each version is won once, and the steps are exactly the winners'."""
    path = tmp_path / "state.db"
    start = time.time() + 2.0  # past every interpreter's start-up, so they collide
    names = [f"p{i}" for i in range(3)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(path), name, "40", str(start)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in names
    ]
    wins = {}
    for name, proc in zip(names, procs, strict=True):
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        wins[name] = int(out)
    run = SqliteStore(path).get_run("shared")
    assert run.version == 1 + sum(wins.values())
    assert [s.index for s in run.steps] == list(range(sum(wins.values())))
    assert {n: sum(s.reasoning == n for s in run.steps) for n in names} == wins
    assert sum(wins.values()) >= 40  # each round a worker lost was won by another


# -- files from other versions -----------------------------------------------------------------

# The layout written before the store moved onto PersistentStore (schema 0, no user_version).
SCHEMA_0 = """
CREATE TABLE runs (id TEXT PRIMARY KEY, version INTEGER NOT NULL,
  status TEXT NOT NULL, tenant TEXT NOT NULL, created_at TEXT NOT NULL, head TEXT NOT NULL);
CREATE INDEX runs_status ON runs(status, created_at);
CREATE INDEX runs_tenant ON runs(tenant, created_at);
CREATE TABLE steps (run_id TEXT NOT NULL, idx INTEGER NOT NULL, body TEXT NOT NULL,
  PRIMARY KEY (run_id, idx));
CREATE TABLE kills (scope TEXT PRIMARY KEY, reason TEXT NOT NULL);
CREATE TABLE idem (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires REAL);
CREATE TABLE counters (name TEXT PRIMARY KEY, value TEXT NOT NULL, etag TEXT);
"""


def write_schema_0(path: Path) -> list[Run]:
    """A file as the previous version left it: three runs created in three time zones."""
    noon = datetime(2030, 1, 1, 12, tzinfo=UTC)
    runs = [
        Run(id="old-utc", goal="g", tenant="acme", created_at=noon, version=2, step_count=1),
        Run(
            id="old-plus2",
            goal="g",
            tenant="acme",
            status=RunStatus.AWAITING_APPROVAL,
            created_at=(noon + timedelta(hours=1)).astimezone(timezone(timedelta(hours=2))),
        ),
        Run(
            id="old-minus5",
            goal="g",
            tenant="acme",
            created_at=(noon + timedelta(hours=2)).astimezone(timezone(timedelta(hours=-5))),
        ),
    ]
    db = sqlite3.connect(path)
    db.executescript(SCHEMA_0)
    for run in runs:
        head = run.model_dump_json(exclude={"steps"})
        row = (run.id, run.version, run.status.value, run.tenant, run.created_at.isoformat(), head)
        db.execute("INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?)", row)
    step = Step(index=0, reasoning="before the upgrade")
    db.execute("INSERT INTO steps VALUES (?, ?, ?)", ("old-utc", 0, step.model_dump_json()))
    db.execute("INSERT INTO kills VALUES (?, ?)", (kill_scope_run("old-plus2"), "stop it"))
    db.execute("INSERT INTO idem VALUES (?, ?, ?)", ("k", "first", time.time() + 3600))
    db.execute("INSERT INTO counters VALUES (?, ?, ?)", ("c", json.dumps({"n": 2.0}), "e1"))
    db.commit()
    db.close()
    return runs


def test_a_file_from_the_previous_version_is_upgraded_in_place(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    write_schema_0(path)
    store = SqliteStore(path)
    listed = store.list_runs(tenant="acme", limit=2)
    assert [r.id for r in listed.runs] == ["old-minus5", "old-plus2"]  # by instant
    assert listed.cursor is not None
    rest = store.list_runs(tenant="acme", limit=2, cursor=listed.cursor)
    assert [r.id for r in rest.runs] == ["old-utc"]
    waiting = store.list_runs(status=RunStatus.AWAITING_APPROVAL)
    assert [r.id for r in waiting.runs] == ["old-plus2"]
    old = store.get_run("old-utc")
    assert old.version == 2 and old.steps[0].reasoning == "before the upgrade"
    store.checkpoint(old, expected_version=2, steps=[Step(index=1)])
    assert [s.index for s in store.get_run("old-utc").steps] == [0, 1]
    assert "stop it" in (store.kill_reason(tenant="acme", run_id="old-plus2") or "")
    assert store.put_idempotency("k", "second") == "first"
    counter = store.get_counter("c")
    assert counter.value == {"n": 2.0} and counter.etag == "e1"
    store.close()

    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == _sqlite_schema.VERSION
    indexes = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert {"runs_status", "runs_tenant"}.isdisjoint(indexes)
    db.close()


def test_two_stores_opening_an_old_file_at_once_upgrade_it_once(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    write_schema_0(path)
    barrier = threading.Barrier(4)
    stores: list[SqliteStore] = []

    def open_it() -> None:
        barrier.wait()
        stores.append(SqliteStore(path))  # each its own connection, as separate processes

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(stores) == 4
    for store in stores:
        assert [r.id for r in store.list_runs().runs] == ["old-minus5", "old-plus2", "old-utc"]
        store.close()


def newer(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {_sqlite_schema.VERSION + 1}")
    db.commit()
    db.close()


def not_sqlite(path: Path) -> None:
    path.write_text("these are notes, not a database\n" * 20)


def foreign(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE invoices (id TEXT)")
    db.commit()
    db.close()


@pytest.mark.parametrize(
    ("make", "needle"),
    [(newer, "newer Paddock"), (not_sqlite, "not a Paddock state"), (foreign, "not a Paddock")],
)
def test_a_file_this_version_cannot_use_is_one_clear_error(
    tmp_path: Path, make: object, needle: str
) -> None:
    path = tmp_path / "state.db"
    assert callable(make)
    make(path)
    before = path.read_bytes()
    with pytest.raises(ConfigError) as caught:
        SqliteStore(path)
    message = caught.value.message
    assert str(path) in message and needle in message and "\n" not in message
    assert path.read_bytes() == before  # refused without touching it
