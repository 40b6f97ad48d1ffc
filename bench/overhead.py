"""Orchestration overhead per step: Paddock versus LangGraph on the same scripted workflow.

The workflow has ``--steps`` tool steps (default 20) and a final answer; the planner/model and
the tool answer instantly, so all measured time is the frameworks' own. LangGraph runs its
prebuilt tool-calling graph (``create_react_agent``) with an in-memory and a SQLite
checkpointer; Paddock runs its loop with the in-memory and the SQLite store, with the default
guard (schema, entitlement, rules, provenance, confidence) and without any guard. Runs are
interleaved round by round in one process; the table shows the median per step.
Target: Paddock <= 0.5x LangGraph with the same kind of checkpointer.

Usage: .venv/bin/python bench/overhead.py [--steps 20] [--rounds 15]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import _workflow as wf

from core.guardrails import PolicyGuard
from core.state.memory import MemoryStore
from core.state.sqlite import SqliteStore


def systems(steps: int, tmp: Path) -> dict[str, Callable[[], object]]:
    guard = PolicyGuard()
    counter = iter(range(1_000_000))
    return {
        "paddock memory, no guard": lambda: wf.paddock_run(MemoryStore(), steps),
        "paddock memory, guarded": lambda: wf.paddock_run(MemoryStore(), steps, guard=guard),
        "paddock sqlite, guarded": lambda: wf.paddock_run(
            SqliteStore(tmp / f"p{next(counter)}.db"), steps, guard=guard
        ),
        "langgraph InMemorySaver": lambda: wf.langgraph_run(wf.memory_saver(), steps),
        "langgraph SqliteSaver": lambda: wf.langgraph_run(
            wf.sqlite_saver(tmp / f"l{next(counter)}.db"), steps
        ),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="paddock-overhead-"))
    runners = systems(args.steps, tmp)
    for run in runners.values():  # warm up imports and caches
        run()
    samples: dict[str, list[float]] = {name: [] for name in runners}
    names = list(runners)
    for r in range(args.rounds):
        order = names[r % len(names) :] + names[: r % len(names)]  # rotate who goes first
        for name in order:
            gc.collect()
            started = time.perf_counter()
            runners[name]()
            samples[name].append((time.perf_counter() - started) / (args.steps + 1))
    per_step = {name: statistics.median(v) * 1e6 for name, v in samples.items()}
    print(
        f"Orchestration overhead per step ({args.steps}-step workflow, zero-latency model "
        f"and tool, median of {args.rounds} interleaved rounds)"
    )
    print(f"{'system':<28} {'us/step':>9} {'run ms':>8}")
    for name, us in per_step.items():
        print(f"{name:<28} {us:>9.0f} {us * (args.steps + 1) / 1000:>8.2f}")
    print()
    print(f"{'ratio (target <= 0.5)':<44} {'x':>6}")
    pairs = [
        ("paddock memory, guarded", "langgraph InMemorySaver"),
        ("paddock memory, no guard", "langgraph InMemorySaver"),
        ("paddock sqlite, guarded", "langgraph SqliteSaver"),
    ]
    for mine, theirs in pairs:
        print(f"{mine + ' / ' + theirs.split()[1]:<44} {per_step[mine] / per_step[theirs]:>6.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
