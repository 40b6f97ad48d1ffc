"""A worker without budget re-enqueues with a delay instead of waiting: shared LLM and backend
limits, 429/503 with Retry-After from a service and from the model, and the tenant cap."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from openai import OpenAI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from core.api.worker import (
    MAX_STALL_CHECKS,
    Outcome,
    TenantCap,
    WorkOutcome,
    process_envelope,
)
from core.domain import CallStatus, Plan, ProposedCall, Run, RunStatus
from core.execution.http import HttpExecutor
from core.guardrails.base import PassThroughGuard
from core.orchestrator.engine import Orchestrator
from core.planner.base import Planner
from core.planner.openai_planner import OpenAIPlanner
from core.queue.base import Envelope
from core.queue.memory import MemoryQueue
from core.ratelimit import (
    DeploymentLimits,
    Limit,
    RateLimitedPlanner,
    RateLimiter,
    Slots,
    ToolLimits,
)
from core.state.memory import MemoryStore
from paddock.local.servers import LocalServer
from paddock.testing.fake_openai import ErrorReply, ScriptedOpenAI, TextReply
from paddock.testing.planner import ScriptedPlanner
from tests.orchestrator.service import ToolList, tools


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


class Throttling:
    """GET /items/{item}: 429 with Retry-After 30 for the first ``refusals`` requests."""

    def __init__(self, refusals: int, status: int = 429) -> None:
        self.refusals = refusals
        self.status = status
        self.seen = 0
        self.app = Starlette(routes=[Route("/items/{item}", self.get, methods=["GET"])])

    async def get(self, request: Request) -> JSONResponse:
        self.seen += 1
        if self.seen <= self.refusals:
            return JSONResponse(
                {"error": "busy"}, status_code=self.status, headers={"Retry-After": "30"}
            )
        return JSONResponse({"item": request.path_params["item"], "stock": 3})


@pytest.fixture()
def throttling() -> Iterator[tuple[Throttling, str]]:
    svc = Throttling(refusals=2)
    with LocalServer(svc.app) as server:
        yield svc, server.url


def read_then_answer() -> list[Any]:
    return [
        Plan(calls=[ProposedCall(id="c", tool="get_item", args={"item": "A-1"})]),
        Plan(final_answer="3 in stock"),
    ]


class Rig:
    def __init__(self, planner: Planner, url: str = "http://127.0.0.1:9", **orch: Any) -> None:
        self.clock = Clock()
        self.store = MemoryStore()
        self.queue = MemoryQueue(clock=self.clock)
        catalog = ToolList(tools(url))
        self.orch = Orchestrator(
            store=self.store,
            catalogs=lambda run: catalog,
            planners=lambda run: planner,
            guard=PassThroughGuard(),
            executor=HttpExecutor(max_retry_wait=1.0),
            **orch,
        )

    def start(self, run_id: str = "run_a", tenant: str = "default") -> None:
        run = self.orch.create(Run(id=run_id, goal="how many A-1?", tenant=tenant))
        self.queue.send(Envelope(run_id=run.id, expected_version=run.version, target="local"))

    def work(self, **kw: Any) -> list[WorkOutcome]:
        out = []
        for message in self.queue.receive(max_messages=10):
            out.append(process_envelope(message.envelope, self.orch, {"local": self.queue}, **kw))
            self.queue.ack(message)
        return out


def test_429_retry_after_from_a_service_defers_the_run_instead_of_failing(
    throttling: tuple[Throttling, str],
) -> None:
    svc, url = throttling
    rig = Rig(ScriptedPlanner(read_then_answer()), url)
    rig.start()
    [first] = rig.work()
    assert first.outcome is Outcome.DEFERRED and first.delay == 30
    call = rig.store.get_run("run_a").steps[0].calls[0]
    assert call.status is CallStatus.APPROVED and call.deferred == 1
    assert rig.work() == []  # nothing visible: nobody busy-waits
    rig.clock.now += 30
    [second] = rig.work()
    assert second.outcome is Outcome.DEFERRED
    rig.clock.now += 30
    [third] = rig.work()
    assert third.outcome is Outcome.FINISHED and third.status is RunStatus.SUCCEEDED
    run = rig.store.get_run("run_a")
    assert run.steps[0].calls[0].result == {"item": "A-1", "stock": 3}
    assert svc.seen == 3 and run.tool_calls == 1


def test_503_beyond_max_deferrals_fails_the_call_as_data() -> None:
    svc = Throttling(refusals=10, status=503)
    with LocalServer(svc.app) as server:
        rig = Rig(ScriptedPlanner(read_then_answer()), server.url, max_deferrals=1)
        rig.start()
        assert rig.work()[0].outcome is Outcome.DEFERRED
        rig.clock.now += 30
        assert rig.work()[0].status is RunStatus.SUCCEEDED
    call = rig.store.get_run("run_a").steps[0].calls[0]
    assert call.status is CallStatus.ERROR and call.status_code == 503


def test_backend_limit_defers_before_anything_is_claimed(
    throttling: tuple[Throttling, str],
) -> None:
    svc, url = throttling
    svc.refusals = 0
    limiter_clock = Clock()
    limiter = RateLimiter(MemoryStore(), clock=limiter_clock)
    host = url.split("//")[1]
    limits = ToolLimits(limiter, hosts={host: Limit("host:items", capacity=1, per_seconds=10)})
    rig = Rig(ScriptedPlanner(read_then_answer() + read_then_answer()), url, admission=limits)
    assert limiter.try_acquire(Limit("host:items", capacity=1, per_seconds=10)).granted
    rig.start()
    [out] = rig.work()
    assert out.outcome is Outcome.DEFERRED and out.delay == 10
    call = rig.store.get_run("run_a").steps[0].calls[0]
    assert call.status is CallStatus.APPROVED and call.claimed_at is None
    assert svc.seen == 0
    limiter_clock.now += 10
    rig.clock.now += 10
    assert rig.work()[0].status is RunStatus.SUCCEEDED
    assert svc.seen == 1


def test_model_429_with_long_retry_after_defers_the_run() -> None:
    with ScriptedOpenAI(
        [ErrorReply(429, retry_after=45, message="slow down"), TextReply("all done")]
    ) as fake:
        planner = OpenAIPlanner(  # answering without a tool is not what this test is about
            OpenAI(base_url=fake.base_url, api_key="k"),
            "gpt-4o-mini",
            max_retries=0,
            require_tool_call=False,
        )
        rig = Rig(planner)
        rig.start()
        [out] = rig.work()
        assert out.outcome is Outcome.DEFERRED and out.delay == 45
        deferred = rig.store.get_run("run_a")
        assert deferred.status is RunStatus.RUNNING and deferred.planner_deferrals == 1
        rig.clock.now += 45
        assert rig.work()[0].status is RunStatus.SUCCEEDED
        assert rig.store.get_run("run_a").planner_deferrals == 0


def test_a_model_that_keeps_answering_429_fails_the_run_after_max_deferrals() -> None:
    with ScriptedOpenAI(default=ErrorReply(429, retry_after=5, message="quota exhausted")) as fake:
        planner = OpenAIPlanner(
            OpenAI(base_url=fake.base_url, api_key="k"), "gpt-4o-mini", max_retries=0
        )
        rig = Rig(planner, max_deferrals=3)
        rig.start()
        outcomes = []
        for _ in range(6):
            outcomes += rig.work()
            rig.clock.now += 5
    assert [o.outcome for o in outcomes] == [Outcome.DEFERRED] * 3 + [Outcome.FINISHED]
    run = rig.store.get_run("run_a")
    assert run.status is RunStatus.FAILED
    assert "quota exhausted" in (run.error or "") and "after 3 deferrals" in (run.error or "")


def test_shared_llm_budget_estimates_before_and_reconciles_after() -> None:
    with ScriptedOpenAI(default=TextReply("done")) as fake:
        inner = OpenAIPlanner(
            OpenAI(base_url=fake.base_url, api_key="k"), "gpt-4o-mini", require_tool_call=False
        )
        limiter_clock = Clock()
        shared = MemoryStore()
        limiter = RateLimiter(shared, clock=limiter_clock)
        limits = DeploymentLimits(
            "gpt-4o-mini",
            tokens_per_minute=100_000,
            requests_per_minute=40,
            window_seconds=60,
            burst=0.05,
        )
        planner = RateLimitedPlanner(inner, limiter, limits)
        rig = Rig(planner)
        for n in range(3):
            rig.start(f"run_{n}")
        outcomes = rig.work()
        # rpm bucket holds 0.05 * 40 = 2 requests: the third run waits for a refill.
        assert [o.outcome for o in outcomes].count(Outcome.FINISHED) == 2
        deferred = [o for o in outcomes if o.outcome is Outcome.DEFERRED]
        assert len(deferred) == 1 and deferred[0].delay is not None
        assert fake.counters.completions == 2 and fake.counters.throttled == 0
        used = fake.counters.prompt_tokens + fake.counters.completion_tokens
        tokens = shared.get_counter(f"ratelimit:{limits.tpm.name}").value["tokens"]
        # After reconciling, the bucket is down by what the model reported, not the estimate.
        assert tokens == pytest.approx(limits.tpm.capacity - used)


def test_tenant_cap_defers_a_second_run_of_the_same_tenant() -> None:
    rig = Rig(ScriptedPlanner([Plan(final_answer="a"), Plan(final_answer="b")]))
    slots = Slots(rig.store, clock=rig.clock)
    cap = TenantCap(slots, per_tenant=1)
    assert slots.acquire("tenant:acme", "run_busy", 1).granted  # another worker's run
    rig.start("run_a", tenant="acme")
    rig.start("run_b", tenant="other")
    outcomes = {o.run_id: o for o in rig.work(tenant_cap=cap)}
    assert outcomes["run_a"].outcome is Outcome.DEFERRED
    assert outcomes["run_b"].outcome is Outcome.FINISHED
    slots.release("tenant:acme", "run_busy")
    rig.clock.now += 5
    assert rig.work(tenant_cap=cap)[0].status is RunStatus.SUCCEEDED
    assert slots.held("tenant:acme") == 0


def test_a_run_deferred_many_times_is_still_resumed_after_a_worker_crash() -> None:
    # Deferrals for lack of budget must not use up the stale envelope's stall checks.
    rig = Rig(
        ScriptedPlanner([Plan(reasoning="look around"), Plan(final_answer="done")]),
        claim_lease=timedelta(0),
    )
    slots = Slots(rig.store, clock=rig.clock)
    cap = TenantCap(slots, per_tenant=1)
    assert slots.acquire("tenant:acme", "run_busy", 1).granted
    rig.start("run_a", tenant="acme")
    for _ in range(MAX_STALL_CHECKS + 2):
        [deferred] = rig.work(tenant_cap=cap)
        assert deferred.outcome is Outcome.DEFERRED
        rig.clock.now += deferred.delay or 0
    slots.release("tenant:acme", "run_busy")
    [message] = rig.queue.receive(max_messages=1)
    envelope = message.envelope
    # The worker takes it, checkpoints one step and dies before sending the next message.
    rig.orch.advance(envelope.run_id, expected_version=envelope.expected_version, max_steps=1)
    assert rig.store.get_run("run_a").status is RunStatus.RUNNING
    again = process_envelope(envelope, rig.orch, {"local": rig.queue}, tenant_cap=cap)
    assert again.outcome is Outcome.FINISHED and again.status is RunStatus.SUCCEEDED


def test_limits_from_the_environment_wrap_model_planners_only() -> None:
    from core.errors import ConfigError
    from core.ratelimit.llm import deployment_limits, limited_planners
    from core.settings import LimitSettings

    def limits_from_env(env: dict[str, str]) -> DeploymentLimits | None:
        return deployment_limits(LimitSettings.from_env(env))

    assert limits_from_env({}) is None
    limits = limits_from_env({"PADDOCK_LLM_TPM": "90000", "PADDOCK_LLM_DEPLOYMENT": "gpt"})
    assert limits is not None and limits.tokens_per_minute == 90000
    assert limits.tpm.name == "llm:gpt:tpm"
    assert limits.requests_per_minute == 1e12  # one limit alone leaves the other open
    with pytest.raises(ConfigError, match="PADDOCK_LLM_RPM"):
        limits_from_env({"PADDOCK_LLM_RPM": "lots"})
    for bad in ("nan", "inf", "1e400", "0", "-5"):  # each would switch the limit off silently
        with pytest.raises(ConfigError, match="PADDOCK_LLM_TPM"):
            limits_from_env({"PADDOCK_LLM_TPM": bad})
    rules = ScriptedPlanner([])
    provide = limited_planners(
        lambda run: rules, MemoryStore(), LimitSettings.from_env({"PADDOCK_LLM_TPM": "1000"})
    )
    assert provide(Run(id="a", goal="g", planner="rules")) is rules
    wrapped = provide(Run(id="b", goal="g", planner="openai"))
    assert isinstance(wrapped, RateLimitedPlanner) and wrapped.inner is rules
    assert provide(Run(id="c", goal="g", planner="openai")) is wrapped


def test_tenant_cap_from_the_environment_is_checked() -> None:
    from core.api.worker import Worker
    from core.errors import ConfigError

    assert Worker.from_env({"PADDOCK_TENANT_CONCURRENCY": "4"}).tenant_concurrency == 4
    assert Worker.from_env({}).tenant_concurrency is None
    with pytest.raises(ConfigError, match="positive integer"):
        Worker.from_env({"PADDOCK_TENANT_CONCURRENCY": "-1"})


@pytest.mark.parametrize(
    ("limits", "needle"),
    [
        (DeploymentLimits("small", tokens_per_minute=500, requests_per_minute=40), "500"),
        (
            DeploymentLimits(
                "small", tokens_per_minute=1e9, requests_per_minute=40, context_tokens=400
            ),
            "context window",
        ),
    ],
)
def test_a_request_that_can_never_fit_fails_at_once_naming_the_sizes(
    limits: DeploymentLimits, needle: str
) -> None:
    with ScriptedOpenAI(default=TextReply("done")) as fake:
        inner = OpenAIPlanner(OpenAI(base_url=fake.base_url, api_key="k"), "gpt-4o-mini")
        planner = RateLimitedPlanner(
            inner, RateLimiter(MemoryStore()), limits, estimate=lambda ctx: 2_000
        )
        rig = Rig(planner)
        rig.start("run_big")
        outcomes = rig.work()
        assert [o.outcome for o in outcomes] == [Outcome.FINISHED]  # no deferral
        run = rig.store.get_run("run_big")
        assert run.status is RunStatus.FAILED
        assert "2,000 tokens" in (run.error or "") and needle in (run.error or "")
        assert "can never be sent" in (run.error or "")
        assert fake.counters.completions == 0  # nothing went to the model


def test_the_next_step_records_how_often_and_why_the_run_was_put_back() -> None:
    rig = Rig(ScriptedPlanner([Plan(final_answer="a")]))
    slots = Slots(rig.store, clock=rig.clock)
    cap = TenantCap(slots, per_tenant=1)
    assert slots.acquire("tenant:acme", "run_busy", 1).granted  # another worker's run
    rig.start("run_a", tenant="acme")
    for _ in range(3):
        [out] = rig.work(tenant_cap=cap)
        assert out.outcome is Outcome.DEFERRED
        rig.clock.now += out.delay or 0
    slots.release("tenant:acme", "run_busy")
    [done] = rig.work(tenant_cap=cap)
    assert done.status is RunStatus.SUCCEEDED
    [step] = rig.store.get_run("run_a").steps
    assert step.deferrals == 3
    assert "tenant acme has all its 1 slots in use" in (step.deferred_reason or "")
