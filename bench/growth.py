"""Growth: per-step time and bytes written at step 10, 100 and 1,000 of one run, for Paddock's
SQLite store and LangGraph's SQLite checkpointer (same scripted workflow as bench/overhead.py).

Time per step is the gap between consecutive model calls (median of a few steps around each
mark). Bytes per step are measured in the same run, with the time spent measuring left out:
for Paddock the head and step records each checkpoint writes; for LangGraph the checkpoint,
metadata and pending-write blobs its saver stores. Target: Paddock's bytes/step flat (<= 1.1x
from step 10 to the last step).

Usage: .venv/bin/python bench/growth.py [--steps 1000]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import _workflow as wf

from core.domain import Run, Step
from core.guardrails import PolicyGuard
from core.state.sqlite import SqliteStore


class MeteredSqliteStore(SqliteStore):
    """Counts the bytes of the records each checkpoint writes (what the store serialises)."""

    written = 0
    clock: wf.StepClock | None = None

    def checkpoint(self, run: Run, *, expected_version: int, steps: Sequence[Step] = ()) -> Run:
        started = time.perf_counter()
        self.written += len(run.model_dump_json(exclude={"steps"}).encode())
        self.written += sum(len(s.model_dump_json().encode()) for s in steps)
        if self.clock is not None:
            self.clock.paused += time.perf_counter() - started
        return super().checkpoint(run, expected_version=expected_version, steps=steps)


def per_step_ms(stamps: list[float], mark: int, window: int = 5) -> float:
    lo = max(0, min(mark, len(stamps) - 1) - window)
    gaps = [
        b - a
        for a, b in zip(stamps[lo : lo + window], stamps[lo + 1 : lo + window + 1], strict=False)
    ]
    return statistics.median(gaps) * 1000


def per_step_bytes(cumulative: list[int], mark: int, window: int = 5) -> float:
    lo = max(0, min(mark, len(cumulative) - 1) - window)
    hi = min(len(cumulative) - 1, lo + window)
    return (cumulative[hi] - cumulative[lo]) / max(1, hi - lo)


def langgraph_bytes(db: sqlite3.Connection) -> int:
    stored = db.execute(
        "SELECT coalesce(sum(length(checkpoint) + length(metadata)), 0) FROM checkpoints"
    ).fetchone()[0]
    writes = db.execute("SELECT coalesce(sum(length(value)), 0) FROM writes").fetchone()[0]
    return int(stored) + int(writes)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    args = parser.parse_args()
    steps = args.steps
    marks = [m for m in (10, 100, 1000) if m <= steps] or [steps]
    tmp = Path(tempfile.mkdtemp(prefix="paddock-growth-"))
    guard = PolicyGuard()

    metered = MeteredSqliteStore(tmp / "pb.db")
    pad_bytes: list[int] = []
    metered.clock = wf.StepClock(on_call=lambda n: pad_bytes.append(metered.written))
    pad_time = wf.paddock_run(metered, steps, guard=guard, clock=metered.clock).stamps
    saver = wf.sqlite_saver(tmp / "lb.db")
    lg_bytes: list[int] = []
    lg_time = wf.langgraph_run(
        saver,
        steps,
        clock=wf.StepClock(on_call=lambda n: lg_bytes.append(langgraph_bytes(saver.conn))),
    ).stamps

    print(f"Growth over one {steps}-step run (SQLite on both sides, zero-latency model and tool)")
    print(f"{'system':<24} {'step':>5} {'ms/step':>8} {'bytes/step':>11}")
    rows = [
        ("paddock SqliteStore", pad_time, pad_bytes),
        ("langgraph SqliteSaver", lg_time, lg_bytes),
    ]
    for name, stamps, cumulative in rows:
        for mark in marks:
            print(
                f"{name:<24} {mark:>5} {per_step_ms(stamps, mark):>8.2f} "
                f"{per_step_bytes(cumulative, mark):>11,.0f}"
            )
    print()
    first, last = marks[0], marks[-1]
    print(f"{'ratio step ' + str(last) + ' / step ' + str(first):<24} {'time':>8} {'bytes':>8}")
    for name, stamps, cumulative in rows:
        t = per_step_ms(stamps, last) / per_step_ms(stamps, first)
        b = per_step_bytes(cumulative, last) / max(1.0, per_step_bytes(cumulative, first))
        print(f"{name:<24} {t:>8.2f} {b:>8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
