"""Cold start next to LangGraph: fresh-interpreter import of the deployed handlers and of the
step loop, and of LangGraph's prebuilt tool-calling agent with its SQLite checkpointer.

Each sample is a new interpreter (the project venv) importing one module list; median of
``--runs``, interleaved. The handler rows are the same modules bench/cold_import.py measures
(with their bare Powertools / azure-functions baselines there).

Usage: .venv/bin/python bench/cold_start.py [--runs 9]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

ROWS = [
    ("functions.aws.worker_handler", "functions.aws.worker_handler"),
    ("functions.aws.http_handler", "functions.aws.http_handler"),
    ("function_app (functions/azure)", "function_app"),
    ("paddock step loop + worker", "core.orchestrator.engine,core.api.worker,core.runtime"),
    (
        "paddock + openai planner",
        "core.orchestrator.engine,core.api.worker,core.planner.openai_planner",
    ),
    ("langgraph prebuilt agent + sqlite", "langgraph.prebuilt,langgraph.checkpoint.sqlite"),
]

PROBE = """
import importlib, json, sys, time
t0 = time.perf_counter()
for name in sys.argv[1].split(","):
    importlib.import_module(name)
print(json.dumps(time.perf_counter() - t0))
"""


def sample(modules: str) -> float:
    env = {
        "PYTHONPATH": f"{ROOT}:{ROOT / 'functions' / 'azure'}",
        "PATH": "/usr/bin:/bin",
        "POWERTOOLS_METRICS_NAMESPACE": "Bench",
    }
    done = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", PROBE, modules],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=True,
    )
    return float(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    for _, modules in ROWS:  # warm the bytecode caches
        sample(modules)
    samples: dict[str, list[float]] = {label: [] for label, _ in ROWS}
    for _ in range(args.runs):
        for label, modules in ROWS:
            samples[label].append(sample(modules))
    medians = {k: statistics.median(v) * 1000 for k, v in samples.items()}
    base = medians["langgraph prebuilt agent + sqlite"]
    print(f"Cold import, fresh interpreter, median of {args.runs}")
    print(f"{'modules':<36} {'import ms':>9} {'vs langgraph':>12}")
    for label, _ in ROWS:
        print(f"{label:<36} {medians[label]:>9.0f} {medians[label] / base:>12.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
