"""What replay protection adds to verifying a capability token, and what it holds in memory.

Per verification (median and p99 of N, milliseconds), in one run: a verifier whose seen-jti
store forgets everything (the baseline: signature, claims, no replay check), the in-memory
store, and the shared store over a ``MemoryStore`` and over SQLite (the put-if-absent record
per jti). Then the in-memory store's size at its default cap (Python heap, tracemalloc).

    .venv/bin/python bench/replay_overhead.py [N]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.domain import (
    CallRecord,
    CallStatus,
    Decision,
    HttpBinding,
    Param,
    ParamLocation,
    Run,
    Tool,
    Verdict,
)
from core.execution.base import CallContext
from core.identity import CapabilityMinter, CapabilityVerifier, KeyRing
from core.identity.replay import (
    DEFAULT_MAX_ENTRIES,
    JtiUse,
    MemoryJtiStore,
    RunStoreJtiStore,
    SeenJtiStore,
)
from core.state.memory import MemoryStore
from core.state.sqlite import SqliteStore

ARGS = {"item_id": "A-1"}
KEYS = KeyRing.generate()
TOOL = Tool(
    name="get_item",
    description="bench",
    args_schema={"type": "object"},
    binding=HttpBinding(
        method="GET",
        path="/items/{item_id}",
        base_url="http://127.0.0.1:9",
        operation_id="get_item",
        params=(Param(arg="item_id", name="item_id", location=ParamLocation.PATH, required=True),),
    ),
)


class Forgetful:
    """Remembers nothing: every token is new (the baseline, not for use)."""

    def use(self, jti: str, *, expires_at: float, now: float) -> JtiUse:
        return JtiUse.FIRST


def _time(n: int, seen: SeenJtiStore, tokens: Callable[[], list[str]]) -> list[float]:
    keys_verifier, batch = CapabilityVerifier(KEYS.verifying(), seen=seen), tokens()
    samples = []
    for token in batch:
        ctx = CallContext(run_id="run_bench", step_index=0, call_index=0, capability_token=token)
        start = time.perf_counter()
        reason = keys_verifier.verify(TOOL, ARGS, ctx)
        samples.append(time.perf_counter() - start)
        assert reason is None, reason
    return samples


def _stats(samples: list[float], base: float) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    median = statistics.median(ordered)
    return f"{median * 1000:7.3f} {p99 * 1000:7.3f}  {median / base:5.2f}"


def main(n: int) -> None:
    minter = CapabilityMinter(KEYS)
    run = Run(id="run_bench", goal="bench")
    call = CallRecord(
        call_id="c",
        tool="get_item",
        args=ARGS,
        status=CallStatus.APPROVED,
        decision=Decision(id="d", verdict=Verdict.ALLOW),
    )

    def tokens() -> list[str]:
        return [str(minter.issue(run, 0, 0, call, TOOL).token) for _ in range(n)]

    with tempfile.TemporaryDirectory() as tmp:
        stores: list[tuple[str, SeenJtiStore]] = [
            ("verify, no replay check (baseline)", Forgetful()),
            ("+ MemoryJtiStore", MemoryJtiStore()),
            (
                "+ RunStoreJtiStore on MemoryStore",
                RunStoreJtiStore(MemoryStore(), namespace="bench"),
            ),
            (
                "+ RunStoreJtiStore on SQLite",
                RunStoreJtiStore(SqliteStore(Path(tmp) / "bench.db"), namespace="bench"),
            ),
        ]
        rows = [(label, _time(n, seen, tokens)) for label, seen in stores]
    base = statistics.median(rows[0][1])
    print(f"capability verification per token, N={n} (ms; ratio = median / baseline)")
    print(f"{'':38} {'median':>7} {'p99':>7}  ratio")
    for label, samples in rows:
        print(f"{label:38} {_stats(samples, base)}")
    tracemalloc.start()
    full = MemoryJtiStore()
    before = tracemalloc.get_traced_memory()[0]
    for i in range(DEFAULT_MAX_ENTRIES):
        full.use(f"{i:032x}", expires_at=1e10, now=0.0)
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    refused = full.use("one-more", expires_at=1e10, now=0.0)
    print(
        f"MemoryJtiStore at its cap ({DEFAULT_MAX_ENTRIES} live jtis): "
        f"{held / 2**20:.1f} MiB; the next new jti: {refused.value}"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
