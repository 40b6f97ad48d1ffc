"""The step loop against a real local service, the in-memory store and real executor."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.domain import Budget, CallStatus, Location, Plan, ProposedCall, Run, RunStatus, Step, Tool
from core.execution.base import CallContext, ExecutionResult
from core.execution.http import HttpExecutor
from core.guardrails import PolicyGuard
from core.guardrails.base import PassThroughGuard
from core.orchestrator.engine import Orchestrator
from core.planner.base import PlanContext
from core.state.memory import MemoryStore
from paddock.local.servers import LocalServer
from paddock.testing.planner import ScriptedPlanner
from tests.orchestrator.service import OrdersService, ToolList, tools


@pytest.fixture()
def service() -> Iterator[tuple[OrdersService, str]]:
    svc = OrdersService()
    with LocalServer(svc.app) as server:
        yield svc, server.url


def call(tool: str, **args: Any) -> ProposedCall:
    return ProposedCall(id="", tool=tool, args=args)


def make(
    store: MemoryStore,
    toolset: list[Tool],
    planner: ScriptedPlanner,
    *,
    guard: Any = None,
    executor: Any = None,
    cloud: str = "local",
    handoff: Any = None,
) -> Orchestrator:
    catalog = ToolList(toolset)
    return Orchestrator(
        store=store,
        catalogs=lambda run: catalog,
        planners=lambda run: planner,
        guard=guard or PassThroughGuard(),
        executor=executor or HttpExecutor(),
        cloud=cloud,
        handoff=handoff,
    )


def new_run(**kw: Any) -> Run:
    return Run(id=kw.pop("id", "run_test"), goal="order 5 of A-1", **kw)


HAPPY = [
    Plan(reasoning="check stock", confidence=0.9, calls=[call("get_item", item="A-1")]),
    Plan(
        reasoning="order it",
        confidence=0.9,
        calls=[call("create_order", body={"item": "A-1", "quantity": 5})],
    ),
    Plan(reasoning="done", final_answer="ordered 5 of A-1"),
]


def test_run_succeeds_and_every_step_is_stored(service: tuple[OrdersService, str]) -> None:
    svc, url = service
    store = MemoryStore()
    orch = make(store, tools(url), ScriptedPlanner(HAPPY))
    orch.create(new_run())
    run = orch.advance("run_test").run
    assert run.status is RunStatus.SUCCEEDED
    assert run.result == "ordered 5 of A-1"
    stored = store.get_run("run_test")
    assert [s.status.value for s in stored.steps] == ["done", "done", "done"]
    assert stored.steps[1].calls[0].status_code == 201
    assert stored.tool_calls == 2
    assert len(svc.orders) == 1
    key = stored.steps[1].calls[0].idempotency_key
    assert key and svc.requests[1][2] == key


class RecordingStore(MemoryStore):
    """Notes each checkpoint in the same event list the service writes its requests to."""

    def __init__(self, events: list[tuple[str, Any]]) -> None:
        super().__init__()
        self.events = events

    def checkpoint(self, run: Run, *, expected_version: int, steps: Sequence[Step] = ()) -> Run:
        saved = super().checkpoint(run, expected_version=expected_version, steps=steps)
        for step in steps:
            for c in step.calls:
                self.events.append(
                    (
                        "checkpoint",
                        (c.tool, c.status.value, c.decision.verdict.value if c.decision else None),
                    )
                )
        return saved


def test_decision_is_recorded_before_the_call_reaches_the_service() -> None:
    events: list[tuple[str, Any]] = []
    svc = OrdersService(events)
    with LocalServer(svc.app) as server:
        store = RecordingStore(events)
        orch = make(store, tools(server.url), ScriptedPlanner(HAPPY))
        orch.create(new_run())
        assert orch.advance("run_test").run.status is RunStatus.SUCCEEDED
    first_request = next(i for i, e in enumerate(events) if e[0] == "request")
    decided = next(
        i
        for i, e in enumerate(events)
        if e[0] == "checkpoint" and e[1][0] == "get_item" and e[1][2] == "allow"
    )
    claimed = next(
        i
        for i, e in enumerate(events)
        if e[0] == "checkpoint" and e[1][:2] == ("get_item", "executing")
    )
    assert decided < claimed < first_request
    post = next(i for i, e in enumerate(events) if e[0] == "request" and e[1][0] == "POST")
    post_decided = next(
        i for i, e in enumerate(events) if e[0] == "checkpoint" and e[1][0] == "create_order"
    )
    assert post_decided < post


class CrashAfterSend:
    """The worker dies after the service answered and before the result was checkpointed."""

    def __init__(self) -> None:
        self.inner = HttpExecutor()

    def execute(self, tool: Tool, args: dict[str, Any], ctx: CallContext) -> ExecutionResult:
        self.inner.execute(tool, args, ctx)
        raise SystemExit("worker crashed")


def test_crash_between_call_and_checkpoint_does_not_repeat_the_write(
    service: tuple[OrdersService, str],
) -> None:
    svc, url = service
    store = MemoryStore()
    moves = [HAPPY[1], HAPPY[2]]
    crashing = make(store, tools(url), ScriptedPlanner(moves[:1]), executor=CrashAfterSend())
    crashing.create(new_run())
    with pytest.raises(SystemExit):
        crashing.advance("run_test")
    assert len(svc.orders) == 1
    stalled = store.get_run("run_test")
    assert stalled.steps[0].calls[0].status is CallStatus.EXECUTING
    survivor = make(store, tools(url), ScriptedPlanner(moves[1:]))
    held = survivor.advance("run_test").run  # the crashed worker's lease still holds
    assert held.steps[0].calls[0].status is CallStatus.EXECUTING
    assert len(svc.requests) == 1
    later = datetime.now(UTC) + survivor.claim_lease + timedelta(seconds=1)
    survivor.clock = lambda: later
    run = survivor.advance("run_test").run
    assert run.status is RunStatus.SUCCEEDED
    posts = [r for r in svc.requests if r[0] == "POST"]
    assert len(posts) == 2 and posts[0][2] == posts[1][2]  # re-sent with the same key
    assert len(svc.orders) == 1  # ...so the service created one order


def test_two_workers_on_one_run_execute_each_call_once(service: tuple[OrdersService, str]) -> None:
    svc, url = service
    store = MemoryStore()
    moves = [HAPPY[1], HAPPY[2]]
    # Both workers think the same way: each planner answers from the run's history.
    workers = [
        make(
            store,
            tools(url),
            ScriptedPlanner([lambda ctx: moves[len(ctx.steps)].model_copy(deep=True)] * 5),
        )
        for _ in range(2)
    ]
    workers[0].create(new_run())
    barrier = threading.Barrier(2)
    results: list[Run] = []

    def work(orch: Orchestrator) -> None:
        barrier.wait()
        results.append(orch.advance("run_test").run)

    threads = [threading.Thread(target=work, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    final = store.get_run("run_test")
    assert final.status is RunStatus.SUCCEEDED
    assert len([r for r in svc.requests if r[0] == "POST"]) == 1
    assert len(final.steps) == 2


def test_destructive_call_pauses_and_runs_only_after_approval(
    service: tuple[OrdersService, str],
) -> None:
    svc, url = service
    store = MemoryStore()
    moves = [
        Plan(reasoning="remove it", confidence=0.9, calls=[call("delete_item", item="X")]),
        Plan(reasoning="done", final_answer="deleted"),
    ]
    orch = make(store, tools(url), ScriptedPlanner(moves), guard=PolicyGuard())
    orch.create(new_run(requested_by="alice"))
    paused = orch.advance("run_test").run
    assert paused.status is RunStatus.AWAITING_APPROVAL
    assert svc.deleted == []
    approval = paused.pending_approvals[0]
    assert approval.tool == "delete_item"
    orch.decide("run_test", approval.id, approver="bob", approve=True)
    run = orch.advance("run_test").run
    assert run.status is RunStatus.SUCCEEDED
    assert svc.deleted == ["X"]
    again = orch.advance("run_test").run  # resuming again never re-executes
    assert again.status is RunStatus.SUCCEEDED and svc.deleted == ["X"]


def test_rejection_is_an_observation_and_nothing_runs(service: tuple[OrdersService, str]) -> None:
    svc, url = service
    store = MemoryStore()
    seen: list[str] = []

    def after(ctx: PlanContext) -> Plan:
        seen.append(ctx.steps[-1].calls[0].status.value)
        return Plan(reasoning="ok", final_answer="not deleted")

    moves = [
        Plan(reasoning="remove it", confidence=0.9, calls=[call("delete_item", item="X")]),
        after,
    ]
    orch = make(store, tools(url), ScriptedPlanner(moves), guard=PolicyGuard())
    orch.create(new_run(requested_by="alice"))
    paused = orch.advance("run_test").run
    orch.decide(
        "run_test",
        paused.pending_approvals[0].id,
        approver="bob",
        approve=False,
        comment="no deletions today",
    )
    run = orch.advance("run_test").run
    assert run.status is RunStatus.SUCCEEDED
    assert seen == ["rejected"]
    assert svc.deleted == []
    assert store.get_run("run_test").steps[0].calls[0].error == "no deletions today"


def test_max_steps_stops_a_looping_planner(service: tuple[OrdersService, str]) -> None:
    svc, url = service
    store = MemoryStore()
    moves = [
        Plan(reasoning=f"look {i}", confidence=0.9, calls=[call("get_item", item=f"I-{i}")])
        for i in range(10)
    ]
    orch = make(store, tools(url), ScriptedPlanner(moves))
    orch.create(new_run(budget=Budget(max_steps=3)))
    run = orch.advance("run_test").run
    assert run.status is RunStatus.FAILED
    assert run.reason is not None and "step" in run.reason
    assert len(svc.requests) == 3


def test_kill_flag_stops_the_run_before_its_next_step(service: tuple[OrdersService, str]) -> None:
    svc, url = service
    store = MemoryStore()

    def second(ctx: PlanContext) -> Plan:
        store.set_kill("global", "incident 42")
        return Plan(
            reasoning="order",
            confidence=0.9,
            calls=[call("create_order", body={"item": "A-1", "quantity": 5})],
        )

    orch = make(store, tools(url), ScriptedPlanner([HAPPY[0], second, HAPPY[2]]))
    orch.create(new_run())
    run = orch.advance("run_test").run
    assert run.status is RunStatus.KILLED
    assert run.reason is not None and "incident 42" in run.reason
    assert svc.orders == {}
    assert len(store.get_run("run_test").steps) == 2  # full state kept


def test_planner_failure_fails_the_run_with_a_message(service: tuple[OrdersService, str]) -> None:
    _, url = service
    store = MemoryStore()
    orch = make(store, tools(url), ScriptedPlanner([]))
    orch.create(new_run())
    run = orch.advance("run_test").run
    assert run.status is RunStatus.FAILED
    assert run.error is not None and "no more moves" in run.error


def test_call_for_another_cloud_is_handed_off_then_finished_there(
    service: tuple[OrdersService, str],
) -> None:
    svc, url = service
    store = MemoryStore()
    handed: list[tuple[str, int, str]] = []
    toolset = tools(url, order_cloud=Location.AZURE)
    aws = make(
        store,
        toolset,
        ScriptedPlanner([HAPPY[1]]),
        cloud="aws",
        handoff=lambda run, target: handed.append((run.id, run.version, target)),
    )
    aws.create(new_run())
    after_aws = aws.advance("run_test").run
    assert handed == [("run_test", after_aws.version, "azure")]
    assert svc.orders == {}
    azure = make(store, toolset, ScriptedPlanner([HAPPY[2]]), cloud="azure")
    stale = azure.advance("run_test", expected_version=after_aws.version - 1).run
    assert stale.version == after_aws.version and svc.orders == {}  # stale message dropped
    run = azure.advance("run_test", expected_version=after_aws.version).run
    assert run.status is RunStatus.SUCCEEDED
    assert len(svc.orders) == 1
    assert store.get_run("run_test").steps[0].calls[0].worker == "azure"
