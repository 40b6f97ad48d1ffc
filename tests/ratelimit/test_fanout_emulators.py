"""Fan-out on the emulators: DynamoDB + SQS (moto) and Table + Azure queue (Azurite), two
worker threads, a shared RPM budget small enough that workers must defer through the queue's
delay, one failing child and every message possibly duplicated by the queue."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from core.api.worker import Outcome, WorkOutcome, process_envelope
from core.domain import Grant, Run, RunStatus
from core.execution.http import HttpExecutor
from core.guardrails.base import PassThroughGuard
from core.orchestrator.children import ChildRuns, with_subtask_tool
from core.orchestrator.engine import Orchestrator
from core.queue import AzureStorageQueue, SqsQueue, azure_queue_client, create_sqs_queue
from core.queue.base import Envelope, TaskQueue
from core.ratelimit import DeploymentLimits, RateLimitedPlanner, RateLimiter
from core.state.base import RunStore
from tests.orchestrator.fanout import FanPlanner, tasks
from tests.orchestrator.service import ToolList

pytestmark = pytest.mark.emulators


def sqs_queue(aws_client: Callable[[str], Any]) -> TaskQueue:
    client = aws_client("sqs")
    urls = create_sqs_queue(client, f"fan-{uuid.uuid4().hex[:8]}")
    return SqsQueue(client, urls.queue_url, dlq_url=urls.dlq_url)


def azure_queue(conn: str) -> TaskQueue:
    queue = AzureStorageQueue(
        azure_queue_client(f"fan-{uuid.uuid4().hex[:8]}", connection_string=conn)
    )
    queue.create_queues()
    return queue


@pytest.fixture(params=["aws", "azure"])
def backend(request: pytest.FixtureRequest) -> tuple[RunStore, TaskQueue]:
    if request.param == "aws":
        return (
            request.getfixturevalue("dynamodb_store"),
            sqs_queue(request.getfixturevalue("aws_client")),
        )
    return (
        request.getfixturevalue("table_store"),
        azure_queue(request.getfixturevalue("azurite_connection_string")),
    )


def test_fan_out_under_a_shared_budget_on_real_queues(backend: tuple[RunStore, TaskQueue]) -> None:
    store, queue = backend
    limiter = RateLimiter(store)
    # 3 requests at once, then about one a second: eight plans cannot all go at once.
    limits = DeploymentLimits(
        "fake", tokens_per_minute=1_000_000, requests_per_minute=12, window_seconds=10, burst=0.25
    )
    fan = FanPlanner()
    planner = RateLimitedPlanner(fan, limiter, limits, estimate=lambda ctx: 100)
    catalog = ToolList([])

    def orchestrator() -> Orchestrator:  # one per worker, as in separate processes
        return Orchestrator(
            store=store,
            catalogs=with_subtask_tool(lambda r: catalog),
            planners=lambda r: planner,
            guard=PassThroughGuard(),
            executor=HttpExecutor(),
            children=ChildRuns(store, {"local": queue}),
        )

    parent = orchestrator().create(
        Run(
            id=f"run_{uuid.uuid4().hex[:8]}",
            goal="assess",
            inputs={"tasks": tasks(6, failing=(2,))},
            grant=Grant(max_children=10),
        )
    )
    queue.send(Envelope(run_id=parent.id, expected_version=1, target="local"))
    outcomes: list[WorkOutcome] = []
    done = threading.Event()

    def work() -> None:
        orch = orchestrator()
        deadline = time.monotonic() + 60
        while not done.is_set() and time.monotonic() < deadline:
            for message in queue.receive(max_messages=4, visibility_timeout=20):
                outcomes.append(process_envelope(message.envelope, orch, {"local": queue}))
                queue.ack(message)
                if (
                    message.envelope.parent_id is None
                    and store.get_run(parent.id, with_steps=False).status.finished
                ):
                    done.set()
            time.sleep(0.05)

    workers = [threading.Thread(target=work) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    final = store.get_run(parent.id)
    assert final.status is RunStatus.SUCCEEDED, final.reason
    result = json.loads(final.result or "")
    assert (result["succeeded"], result["failed"]) == (5, 1)
    assert any(o.outcome is Outcome.DEFERRED for o in outcomes)
    assert all(fan.plans[c.id] == 1 for c in final.children)
    assert fan.plans[parent.id] == 2
