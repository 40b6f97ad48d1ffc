"""``Orchestrator.advance`` says why it stopped: one test per outcome kind, each checking the
kind and the run it carries against what the store holds."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from openai import OpenAI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from core.api.worker import QueueHandoff
from core.domain import (
    CallStatus,
    Location,
    Plan,
    ProposedCall,
    Run,
    RunStatus,
    StepStatus,
    Tool,
)
from core.errors import BudgetSpent
from core.execution.base import CallContext, ExecutionResult
from core.execution.http import HttpExecutor
from core.guardrails import PolicyGuard
from core.guardrails.base import PassThroughGuard
from core.orchestrator.engine import Orchestrator
from core.orchestrator.outcome import (
    Finished,
    HandedOff,
    LostRace,
    Paused,
    Stale,
    Stop,
    Throttled,
    Waiting,
    Yielded,
    run_unless_throttled,
)
from core.planner.base import PlanContext, Planner
from core.planner.openai_planner import OpenAIPlanner
from core.queue.memory import MemoryQueue
from core.ratelimit import DeploymentLimits, Limit, RateLimitedPlanner, RateLimiter, ToolLimits
from core.state.memory import MemoryStore
from paddock.local.servers import LocalServer
from paddock.testing.fake_openai import ErrorReply, ScriptedOpenAI, TextReply
from paddock.testing.planner import ScriptedPlanner
from tests.orchestrator.fanout import World
from tests.orchestrator.service import OrdersService, ToolList, tools


@pytest.fixture()
def service() -> Iterator[tuple[OrdersService, str]]:
    svc = OrdersService()
    with LocalServer(svc.app) as server:
        yield svc, server.url


def orchestrator(store: MemoryStore, url: str, planner: Planner, **kw: Any) -> Orchestrator:
    catalog = ToolList(kw.pop("toolset", None) or tools(url))
    return Orchestrator(
        store=store,
        catalogs=lambda run: catalog,
        planners=lambda run: planner,
        guard=kw.pop("guard", None) or PassThroughGuard(),
        executor=kw.pop("executor", None) or HttpExecutor(max_retry_wait=1.0),
        **kw,
    )


def read(item: str = "A-1") -> Plan:
    return Plan(reasoning="look", calls=[ProposedCall(id="", tool="get_item", args={"item": item})])


ORDER = Plan(
    reasoning="order it",
    calls=[ProposedCall(id="", tool="create_order", args={"body": {"item": "A-1", "quantity": 5}})],
)


def start(orch: Orchestrator, run_id: str = "run_out") -> Run:
    return orch.create(Run(id=run_id, goal="order 5 of A-1", requested_by="alice"))


def test_finished(service: tuple[OrdersService, str]) -> None:
    _, url = service
    store = MemoryStore()
    orch = orchestrator(store, url, ScriptedPlanner([read(), Plan(final_answer="none left")]))
    start(orch)
    out = orch.advance("run_out")
    assert isinstance(out, Finished) and out.kind is Stop.FINISHED
    assert out.run.status is RunStatus.SUCCEEDED and out.run.result == "none left"
    assert out.run.version == store.get_run("run_out").version


def test_paused(service: tuple[OrdersService, str]) -> None:
    svc, url = service
    delete = Plan(calls=[ProposedCall(id="", tool="delete_item", args={"item": "X"})])
    orch = orchestrator(MemoryStore(), url, ScriptedPlanner([delete]), guard=PolicyGuard())
    start(orch)
    out = orch.advance("run_out")
    assert isinstance(out, Paused) and out.kind is Stop.PAUSED
    assert out.run.status is RunStatus.AWAITING_APPROVAL
    assert out.run.pending_approvals[0].tool == "delete_item" and svc.deleted == []


def test_waiting_for_children() -> None:
    world = World()
    run = world.start(2)
    out = world.orch.advance(run.id, expected_version=run.version)
    assert isinstance(out, Waiting) and out.kind is Stop.WAITING
    assert out.run.status is RunStatus.WAITING and len(out.run.children) == 2
    assert world.store.get_run(run.id).status is RunStatus.WAITING


def test_handed_off_to_the_other_cloud(service: tuple[OrdersService, str]) -> None:
    svc, url = service
    store = MemoryStore()
    queues = {"aws": MemoryQueue(), "azure": MemoryQueue()}
    aws = orchestrator(
        store,
        url,
        ScriptedPlanner([ORDER]),
        toolset=tools(url, order_cloud=Location.AZURE),
        cloud="aws",
        handoff=QueueHandoff(queues, sender="aws"),
    )
    start(aws)
    out = aws.advance("run_out")
    assert isinstance(out, HandedOff) and out.kind is Stop.HANDED_OFF
    assert out.target == "azure"
    assert out.run.status is RunStatus.RUNNING
    assert out.run.steps[0].calls[0].status is CallStatus.APPROVED  # azure runs it
    [message] = queues["azure"].receive(10)
    assert (message.envelope.run_id, message.envelope.expected_version) == (
        "run_out",
        out.run.version,
    )
    assert len(queues["aws"]) == 0 and svc.orders == {}


def test_lost_race_between_two_orchestrators_on_one_store(
    service: tuple[OrdersService, str],
) -> None:
    svc, url = service
    store = MemoryStore()
    winner = orchestrator(store, url, ScriptedPlanner([ORDER, Plan(final_answer="ordered")]))

    def meanwhile_the_other_worker_finishes_the_run(ctx: PlanContext) -> Plan:
        assert isinstance(winner.advance(ctx.run_id), Finished)
        return ORDER.model_copy(deep=True)

    loser = orchestrator(store, url, ScriptedPlanner([meanwhile_the_other_worker_finishes_the_run]))
    start(loser)
    out = loser.advance("run_out")
    assert isinstance(out, LostRace) and out.kind is Stop.LOST_RACE
    stored = store.get_run("run_out")
    assert out.run.status is RunStatus.SUCCEEDED and out.run.version == stored.version
    assert len(svc.orders) == 1  # the loser's plan never ran


class CrashAfterClaim:
    def execute(self, tool: Tool, args: dict[str, Any], ctx: CallContext) -> ExecutionResult:
        raise SystemExit("worker died holding the claim")


def test_lost_race_to_a_claim_still_within_its_lease(service: tuple[OrdersService, str]) -> None:
    svc, url = service
    store = MemoryStore()
    crashing = orchestrator(store, url, ScriptedPlanner([ORDER]), executor=CrashAfterClaim())
    start(crashing)
    with pytest.raises(SystemExit):
        crashing.advance("run_out")
    other = orchestrator(store, url, ScriptedPlanner([]))
    out = other.advance("run_out")
    assert isinstance(out, LostRace)
    assert out.run.steps[0].calls[0].status is CallStatus.EXECUTING and svc.requests == []
    later = datetime.now(UTC) + other.claim_lease + timedelta(seconds=1)
    other.clock = lambda: later  # the lease ran out: the other worker takes the calls over
    assert isinstance(other.advance("run_out", max_steps=0), Yielded)
    assert len(svc.orders) == 1


def test_throttled_by_a_spent_shared_limit_without_an_exception(
    service: tuple[OrdersService, str],
) -> None:
    svc, url = service
    store = MemoryStore()
    limiter = RateLimiter(MemoryStore(), clock=lambda: 1_000.0)
    bucket = Limit("tool:get_item", capacity=1, per_seconds=10)
    assert limiter.try_acquire(bucket).granted  # another worker took the only unit
    limits = ToolLimits(limiter, tools={"get_item": bucket})
    orch = orchestrator(store, url, ScriptedPlanner([read()]), admission=limits)
    start(orch)
    out = orch.advance("run_out")
    assert isinstance(out, Throttled) and out.kind is Stop.THROTTLED
    assert out.delay == pytest.approx(10) and "backend rate limit (tool:get_item)" in out.reason
    call = out.run.steps[0].calls[0]
    assert call.status is CallStatus.APPROVED and call.claimed_at is None  # nothing claimed
    assert out.run.version == store.get_run("run_out").version and svc.requests == []


def test_throttled_by_a_spent_model_budget_sends_nothing_and_saves_nothing() -> None:
    with ScriptedOpenAI(default=TextReply("done")) as fake:
        inner = OpenAIPlanner(OpenAI(base_url=fake.base_url, api_key="k"), "gpt-4o-mini")
        limiter = RateLimiter(MemoryStore(), clock=lambda: 1_000.0)
        limits = DeploymentLimits("gpt", tokens_per_minute=1e6, requests_per_minute=20)
        assert limiter.try_acquire(limits.rpm).granted  # the one request the burst holds
        store = MemoryStore()
        orch = orchestrator(store, "http://127.0.0.1:9", RateLimitedPlanner(inner, limiter, limits))
        created = start(orch)
        out = orch.advance("run_out")
        assert fake.counters.completions == 0
    assert isinstance(out, Throttled) and out.delay > 0
    assert "model deployment budget spent" in out.reason
    assert out.run.status is RunStatus.PENDING and out.run.version == created.version
    assert store.get_run("run_out").status is RunStatus.PENDING


class Busy:
    """GET /items/{item}: 429 with Retry-After 30 once, then the item."""

    def __init__(self) -> None:
        self.seen = 0
        self.app = Starlette(routes=[Route("/items/{item}", self.get, methods=["GET"])])

    async def get(self, request: Request) -> JSONResponse:
        self.seen += 1
        if self.seen == 1:
            return JSONResponse({"error": "busy"}, status_code=429, headers={"Retry-After": "30"})
        return JSONResponse({"item": request.path_params["item"], "stock": 3})


def test_throttled_by_a_tool_answering_429_with_retry_after() -> None:
    busy = Busy()
    with LocalServer(busy.app) as server:
        store = MemoryStore()
        orch = orchestrator(store, server.url, ScriptedPlanner([read(), Plan(final_answer="3")]))
        start(orch)
        out = orch.advance("run_out")
        assert isinstance(out, Throttled) and out.delay == 30
        assert out.reason == "run run_out: a service asked to retry later"
        call = out.run.steps[0].calls[0]
        assert call.status is CallStatus.APPROVED and call.deferred == 1
        assert out.run.steps[0].status is StepStatus.EXECUTING
        assert store.get_run("run_out").version == out.run.version  # the deferral is stored
        again = orch.advance("run_out")
    assert isinstance(again, Finished) and again.run.status is RunStatus.SUCCEEDED
    assert busy.seen == 2


def test_throttled_by_the_model_answering_429_with_retry_after() -> None:
    replies = [ErrorReply(429, retry_after=45, message="slow down"), TextReply("done")]
    with ScriptedOpenAI(replies) as fake:
        planner = OpenAIPlanner(
            OpenAI(base_url=fake.base_url, api_key="k"), "gpt-4o-mini", max_retries=0
        )
        store = MemoryStore()
        orch = orchestrator(store, "http://127.0.0.1:9", planner)
        start(orch)
        out = orch.advance("run_out")
        assert isinstance(out, Throttled) and out.delay == 45 and "slow down" in out.reason
        assert out.run.status is RunStatus.RUNNING and out.run.planner_deferrals == 1
        assert store.get_run("run_out").planner_deferrals == 1
        assert isinstance(orch.advance("run_out"), Finished)


def test_stale_expected_version_leaves_the_run_untouched(
    service: tuple[OrdersService, str],
) -> None:
    _, url = service
    store = MemoryStore()
    planner = ScriptedPlanner([Plan(final_answer="done")])
    orch = orchestrator(store, url, planner)
    created = start(orch)
    out = orch.advance("run_out", expected_version=created.version + 1)
    assert isinstance(out, Stale) and out.kind is Stop.STALE
    assert out.expected_version == created.version + 1
    assert out.run.status is RunStatus.PENDING and out.run.version == created.version
    assert store.get_run("run_out").version == created.version and planner.contexts == []


def test_yielded_after_max_steps(service: tuple[OrdersService, str]) -> None:
    svc, url = service
    store = MemoryStore()
    orch = orchestrator(store, url, ScriptedPlanner([read("A-1"), read("A-2"), read("A-3")]))
    start(orch)
    out = orch.advance("run_out", max_steps=2)
    assert isinstance(out, Yielded) and out.kind is Stop.YIELDED
    assert out.run.status is RunStatus.RUNNING and len(out.run.steps) == 2
    assert out.run.version == store.get_run("run_out").version and len(svc.requests) == 2


def test_in_process_callers_turn_a_throttle_into_an_error() -> None:
    run = Run(id="run_x", goal="g")
    assert run_unless_throttled(Yielded(run)) is run
    with pytest.raises(BudgetSpent, match="backend rate limit") as caught:
        run_unless_throttled(Throttled(run, 12.0, "run run_x: backend rate limit (x)"))
    assert caught.value.retry_after == 12.0
