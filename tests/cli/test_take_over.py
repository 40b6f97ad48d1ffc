"""``paddock runs resume --take-over`` run N times at once on a crashed run: the ERP sees the
in-flight purchase order re-sent exactly once; every other take-over backs off and says why."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from core.domain import CallStatus, Plan, ProposedCall, Run, Tool
from core.execution.base import CallContext, ExecutionResult
from core.guardrails.base import PassThroughGuard
from core.orchestrator.engine import Orchestrator
from core.orchestrator.takeover import BackedOff, TakeOver, take_over
from core.runtime import CatalogCache
from core.state.memory import MemoryStore
from core.state.sqlite import SqliteStore
from examples.supply_chain import SupplyChainServices, spec_paths
from paddock.testing.fake_openai import ScriptedOpenAI, TextReply
from paddock.testing.planner import ScriptedPlanner

ROOT = Path(__file__).resolve().parents[2]
TAKERS = 6
ORDER = {
    "body": {
        "part": "P-100",
        "plant": "DE01",
        "quantity": 500,
        "vendor_id": "V-2001",
        "unit_price": 61.5,
        "currency": "EUR",
    }
}


class WorkerDies:
    """The worker process dies after its claim checkpoint, before the request goes out."""

    def execute(self, tool: Tool, args: dict[str, Any], ctx: CallContext) -> ExecutionResult:
        raise SystemExit("worker killed")


@pytest.fixture(scope="module")
def services() -> Iterator[SupplyChainServices]:
    with SupplyChainServices() as running:
        yield running


def crashed_run(store: SqliteStore | MemoryStore, services: SupplyChainServices) -> Run:
    """A run whose purchase order is claimed by a worker that then died."""
    erp = next(p for p in spec_paths() if "erp" in p.name)
    plan = Plan(
        reasoning="order it",
        confidence=0.9,
        calls=[ProposedCall(id="", tool="create_purchase_order", args=ORDER)],
    )
    orch = Orchestrator(
        store=store,
        catalogs=CatalogCache(),
        planners=lambda _run: ScriptedPlanner([plan]),
        guard=PassThroughGuard(),
        executor=WorkerDies(),
    )
    run = orch.create(
        Run(
            id="run_takeover01",
            goal="Order 500 P-100 for DE01 from V-2001",
            catalog=[str(erp)],
            base_urls=dict(services.base_urls),
            planner="openai",
            requested_by="cli:alice",
        )
    )
    with pytest.raises(SystemExit):
        orch.advance(run.id)
    stored = store.get_run(run.id)
    [call] = stored.steps[-1].calls
    assert call.status is CallStatus.EXECUTING and call.claimed_at is not None
    return stored


def test_of_n_concurrent_take_overs_one_re_sends_the_order(
    tmp_path: Path, services: SupplyChainServices
) -> None:
    services.erp.reset()
    run = crashed_run(SqliteStore(tmp_path / "state.db"), services)
    script = [TextReply("Purchase order placed.") for _ in range(TAKERS)]
    with ScriptedOpenAI(script) as llm:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
        env.update(
            PADDOCK_HOME=str(tmp_path),
            OPENAI_BASE_URL=llm.base_url,
            OPENAI_API_KEY="sk-test",
            NO_COLOR="1",
        )
        start = threading.Barrier(TAKERS)
        results: list[subprocess.CompletedProcess[str]] = []

        def take() -> None:
            start.wait()
            argv = [sys.executable, "-m", "paddock", "runs", "resume", run.id, "--take-over"]
            results.append(
                subprocess.run(
                    [*argv, "--approve", "reject", "--json"],
                    cwd=ROOT,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=180,
                    check=False,
                )
            )

        threads = [threading.Thread(target=take) for _ in range(TAKERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(services.erp.requests_for("POST", "/purchase-orders")) == 1
    assert len(services.erp.purchase_orders) == 1
    # A taker that starts only after the winner finished finds nothing in flight and simply
    # resumes the finished run (exit 0); every other one backs off (exit 4) and says why.
    assert {r.returncode for r in results} <= {0, 4}, [
        (r.returncode, r.stderr[-800:]) for r in results
    ]
    for result in results:
        assert "Traceback" not in result.stderr
        if result.returncode == 4:
            assert "backing off" in result.stderr
            assert "took over its in-flight calls" in result.stderr


def test_the_lease_goes_to_one_and_only_stale_claims_are_overridden(
    services: SupplyChainServices,
) -> None:
    store = MemoryStore()
    run = crashed_run(store, services)
    first = take_over(store, run, holder="cli:alice", lease=timedelta(minutes=2))
    second = take_over(store, run, holder="cli:bob", lease=timedelta(minutes=2))
    assert isinstance(first, TakeOver) and len(first.claims) == 1
    assert isinstance(second, BackedOff) and "cli:alice" in second.message
    [call] = run.steps[-1].calls
    assert first.covers(call.call_id, call.claimed_at)
    assert not first.covers(call.call_id, call.claimed_at + timedelta(seconds=1))
