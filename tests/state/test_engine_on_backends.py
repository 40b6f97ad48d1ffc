"""The orchestrator's durability guarantees on every backend: memory, SQLite, DynamoDB on moto
and Azure Table on Azurite (the ``store`` fixture), against a real local service."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.domain import CallStatus, Run, RunStatus
from core.state.base import RunStore
from paddock.local.servers import LocalServer
from paddock.testing.planner import ScriptedPlanner
from tests.orchestrator.service import OrdersService, tools
from tests.orchestrator.test_engine import HAPPY, CrashAfterSend, make, new_run


@pytest.fixture()
def service() -> Iterator[tuple[OrdersService, str]]:
    svc = OrdersService()
    with LocalServer(svc.app) as server:
        yield svc, server.url


def test_crash_between_call_and_checkpoint_repeats_nothing(
    store: RunStore, service: tuple[OrdersService, str]
) -> None:
    svc, url = service
    moves = [HAPPY[1], HAPPY[2]]
    crashing = make(store, tools(url), ScriptedPlanner(moves[:1]), executor=CrashAfterSend())
    crashing.create(new_run())
    with pytest.raises(SystemExit):
        crashing.advance("run_test")
    assert store.get_run("run_test").steps[0].calls[0].status is CallStatus.EXECUTING
    survivor = make(store, tools(url), ScriptedPlanner(moves[1:]))
    later = datetime.now(UTC) + survivor.claim_lease + timedelta(seconds=1)
    survivor.clock = lambda: later
    run = survivor.advance("run_test").run
    assert run.status is RunStatus.SUCCEEDED
    posts = [r for r in svc.requests if r[0] == "POST"]
    assert len(posts) == 2 and posts[0][2] == posts[1][2]  # re-sent with the same key...
    assert len(svc.orders) == 1  # ...so the service created one order


def test_two_workers_advancing_one_run_execute_each_call_once(
    store: RunStore, service: tuple[OrdersService, str]
) -> None:
    svc, url = service
    moves = [HAPPY[0], HAPPY[1], HAPPY[2]]

    def by_history(ctx: Any) -> Any:
        return moves[len(ctx.steps)].model_copy(deep=True)

    workers = [make(store, tools(url), ScriptedPlanner([by_history] * 6)) for _ in range(2)]
    workers[0].create(new_run())
    barrier = threading.Barrier(2)
    done: list[Run] = []

    def work(index: int) -> None:
        barrier.wait()
        for _ in range(10):  # keep going as a queue would redeliver, until it finishes
            run = workers[index].advance("run_test").run
            if run.status.finished:
                break
        done.append(run)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    final = store.get_run("run_test")
    assert final.status is RunStatus.SUCCEEDED, (final.status, final.reason)
    assert [s.index for s in final.steps] == [0, 1, 2]
    assert len([r for r in svc.requests if r[0] == "POST"]) == 1
    assert len([r for r in svc.requests if r[0] == "GET"]) == 1
