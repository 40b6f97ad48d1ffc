"""Tracing overhead per step: the same supply-chain run with tracing off and on (issue 8).

Two workloads, each measured in this one process, modes interleaved run by run so drift hits
every mode alike:

* ``http``: the scenario as the demo runs it: the three services on 127.0.0.1, the real HTTP
  executor with the local credentials, the Cedar guard, the offline rule planner, the
  in-memory store;
* ``replay``: the same run with the HTTP responses replayed in-process (recorded from one
  real run first): no I/O at all, so tracing's share of a step is as large as it gets.

Modes: ``off`` (a no-op tracer: what a deployment without exporters pays), ``jsonl`` (the
embedded default: every span written to a JSON-lines file as it ends), ``jsonl-batch`` (the
same file written by a background batch processor), ``batch`` (a background batch processor
into memory: the shape of an OTLP/Azure Monitor deployment without the network). Figures:
median wall and CPU milliseconds per step and the overhead vs ``off``; CPU time is the
steadier figure on a shared machine. Target <= 10 % on the ``http`` workload.

Usage: .venv/bin/python bench/trace_overhead.py [--runs 15] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)

from core.domain import Run, RunStatus, Tool
from core.execution.base import CallContext, ExecutionResult, Executor
from core.runtime import build_orchestrator
from core.state.memory import MemoryStore
from core.telemetry.setup import build_provider
from core.telemetry.tracing import RunTracer
from examples import get_example
from paddock.cli.common import drive

MODES = ("off", "jsonl", "jsonl-batch", "batch")


class Recording:
    """Wraps the real executor and keeps each response by (tool, arguments)."""

    def __init__(self, inner: Executor) -> None:
        self.inner = inner
        self.seen: dict[str, ExecutionResult] = {}

    def execute(self, tool: Tool, args: dict[str, Any], ctx: CallContext) -> ExecutionResult:
        result = self.inner.execute(tool, args, ctx)
        self.seen[_key(tool, args)] = result
        return result


class Replay:
    """Answers from a recording: no network, no I/O."""

    def __init__(self, seen: dict[str, ExecutionResult]) -> None:
        self.seen = seen

    def execute(self, tool: Tool, args: dict[str, Any], ctx: CallContext) -> ExecutionResult:
        return self.seen[_key(tool, args)].model_copy(deep=True)


def _key(tool: Tool, args: dict[str, Any]) -> str:
    return tool.name + json.dumps(args, sort_keys=True, default=str)


def tracer_for(mode: str, tmp: Path) -> tuple[RunTracer, Callable[[], None]]:
    if mode == "off":
        return RunTracer.disabled(), lambda: None
    if mode == "jsonl":
        provider = build_provider(trace_file=tmp / "spans.jsonl")
    elif mode == "jsonl-batch":
        provider = build_provider(trace_file=tmp / "batched.jsonl", batch=True)
    else:
        provider = build_provider(extra=[InMemorySpanExporter()], batch=True)
    return RunTracer(tracer=provider.get_tracer("paddock")), provider.shutdown


class Workload:
    """One orchestrator per tracer, built once and reused run after run, as a worker would."""

    def __init__(self, services: Any, identity: Any, executor: Executor | None) -> None:
        self.services, self.identity, self.executor = services, identity, executor
        self.scenario = get_example("supply-chain")
        self._orchestrators: dict[int, Any] = {}

    def run_once(self, tracing: RunTracer) -> tuple[float, float, int]:
        """Wall and CPU seconds of one run (create to the final answer; CPU of this process,
        service threads included) and its number of steps."""
        orch = self._orchestrators.get(id(tracing))
        if orch is None:
            orch = build_orchestrator(
                store=MemoryStore(), tracing=tracing, identity=self.identity, executor=self.executor
            )
            self._orchestrators[id(tracing)] = orch
        s = self.scenario
        run = Run(
            id=f"run_{time.perf_counter_ns():x}",
            goal=s.goal,
            scenario=s.name,
            catalog=[str(p) for p in s.spec_paths()],
            base_urls=dict(self.services.base_urls),
            inputs=dict(s.inputs),
            grant=s.grant,
        )
        start, cpu = time.perf_counter(), time.process_time()
        run = drive(orch, orch.create(run), approve="auto", console=None)
        elapsed, used = time.perf_counter() - start, time.process_time() - cpu
        if run.status is not RunStatus.SUCCEEDED:
            raise SystemExit(f"the benchmark run did not succeed: {run.status} {run.reason}")
        return elapsed, used, len(run.steps)


def measure(workload: Workload, runs: int, tmp: Path) -> dict[str, dict[str, float]]:
    tracers = {mode: tracer_for(mode, tmp) for mode in MODES}
    wall: dict[str, list[float]] = {mode: [] for mode in MODES}
    cpu: dict[str, list[float]] = {mode: [] for mode in MODES}
    for mode in MODES:  # warm-up: imports, catalog and policy caches
        workload.run_once(tracers[mode][0])
    for _ in range(runs):
        for mode in MODES:
            seconds, used, steps = workload.run_once(tracers[mode][0])
            wall[mode].append(seconds * 1000 / steps)
            cpu[mode].append(used * 1000 / steps)
    for _, stop in tracers.values():
        stop()
    wall_base, cpu_base = statistics.median(wall["off"]), statistics.median(cpu["off"])
    return {
        mode: {
            "wall_ms_per_step": round(statistics.median(wall[mode]), 3),
            "wall_overhead_pct": round((statistics.median(wall[mode]) / wall_base - 1) * 100, 1),
            "cpu_ms_per_step": round(statistics.median(cpu[mode]), 3),
            "cpu_overhead_pct": round((statistics.median(cpu[mode]) / cpu_base - 1) * 100, 1),
            "cpu_ms_added_per_step": round(statistics.median(cpu[mode]) - cpu_base, 3),
        }
        for mode in MODES
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    from paddock.local.identity import local_identity_bundle

    scenario = get_example("supply-chain")
    identity, local = local_identity_bundle()
    verify = dict(scenario.local_auth(local)) if scenario.local_auth is not None else None
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp, scenario.services(verify_auth=verify) as services:
        from core.runtime import default_executor

        recording = Recording(default_executor(identity))
        Workload(services, identity, recording).run_once(RunTracer.disabled())
        results["http"] = measure(Workload(services, identity, None), args.runs, Path(tmp))
        results["replay"] = measure(
            Workload(services, identity, Replay(recording.seen)), args.runs, Path(tmp)
        )
    if args.json:
        print(json.dumps(results))
        return 0
    print(
        f"tracing overhead per step, supply-chain run (9 steps), median of {args.runs} runs "
        "per mode, interleaved (CPU: this process, service threads included)"
    )
    print(
        f"{'workload':<8} {'mode':<11} {'wall ms':>9} {'vs off':>8} {'CPU ms':>9} {'vs off':>8}"
        f" {'CPU +ms':>8}"
    )
    for workload, modes in results.items():
        for mode, f in modes.items():
            print(
                f"{workload:<8} {mode:<11} {f['wall_ms_per_step']:>9.3f} "
                f"{f['wall_overhead_pct']:>+7.1f}% {f['cpu_ms_per_step']:>9.3f} "
                f"{f['cpu_overhead_pct']:>+7.1f}% {f['cpu_ms_added_per_step']:>+8.3f}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
