"""Cost accounting: tokens and USD per step (priced by the real OpenAI planner against a local
OpenAI-compatible server), per run, per model, per tenant, on spans and as metrics."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from openai import OpenAI
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from core.domain import Run, RunStatus
from core.execution.http import HttpExecutor
from core.guardrails.base import PassThroughGuard
from core.orchestrator.engine import Orchestrator
from core.planner.openai_planner import OpenAIPlanner
from core.planner.pricing import Price, PriceTable
from core.state.memory import MemoryStore
from core.telemetry import metrics as m
from core.telemetry.cost import cost_breakdown, stored_runs, tenant_costs
from core.telemetry.metrics import MetricsObserver, OtelSink, PowertoolsSink
from core.telemetry.render import render, totals
from paddock.local.servers import LocalServer
from paddock.testing.fake_openai import ScriptedOpenAI, TextReply, ToolCall, ToolCallsReply
from tests.orchestrator.service import ToolList
from tests.telemetry.support import EchoService, Recorder, echo_tools, named

PRICES = PriceTable({"gpt-test": Price(prompt=1.0, completion=4.0)})
"""USD per 1M tokens: round numbers so the expected costs are easy to write down."""

ACME = [
    ToolCallsReply([ToolCall("get_stock", {"item": "A-1"})], content="stock?", usage=(1000, 100)),
    ToolCallsReply([ToolCall("save_note", {"body": {"text": "low"}})], usage=(2000, 50)),
    TextReply("noted", usage=(3000, 10)),
]
ACME_STEPS = [0.0014, 0.0022, 0.00304]
BETA = [TextReply("nothing to do", usage=(500, 25))]


@pytest.fixture()
def echo() -> Iterator[tuple[EchoService, str]]:
    service = EchoService()
    with LocalServer(service.app, name="echo") as server:
        yield service, server.url


def run_with_model(
    store: MemoryStore,
    url: str,
    script: list[Any],
    *,
    run_id: str,
    tenant: str,
    recorder: Recorder,
    observer: Any,
) -> Run:
    catalog = ToolList(echo_tools(url))
    with ScriptedOpenAI(script) as llm:
        planner = OpenAIPlanner(  # BETA's model answers without a tool: fine for costing
            OpenAI(base_url=llm.base_url, api_key="test-key"),
            "gpt-test",
            price_table=PRICES,
            require_tool_call=False,
        )
        orch = Orchestrator(
            store=store,
            catalogs=lambda run: catalog,
            planners=lambda run: planner,
            guard=PassThroughGuard(),
            executor=HttpExecutor(),
            tracing=recorder.tracer(),
            observer=observer,
        )
        orch.create(Run(id=run_id, goal="check A-1", tenant=tenant, planner="openai"))
        return orch.advance(run_id).run


def points(reader: InMemoryMetricReader) -> dict[str, list[Any]]:
    data = reader.get_metrics_data()
    found: dict[str, list[Any]] = {}
    for resource in data.resource_metrics if data else []:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                found.setdefault(metric.name, []).extend(metric.data.data_points)
    return found


def test_cost_per_step_run_model_and_tenant_add_up(echo: tuple[EchoService, str]) -> None:
    _, url = echo
    store = MemoryStore()
    recorder = Recorder()
    reader = InMemoryMetricReader()
    observer = MetricsObserver(
        OtelSink(MeterProvider(metric_readers=[reader]).get_meter("paddock"))
    )
    acme = run_with_model(
        store, url, ACME, run_id="run_acme", tenant="acme", recorder=recorder, observer=observer
    )
    beta = run_with_model(
        store, url, BETA, run_id="run_beta", tenant="beta", recorder=recorder, observer=observer
    )
    assert (acme.status, beta.status) == (RunStatus.SUCCEEDED, RunStatus.SUCCEEDED)

    # Per step: what the price table says of each reply's usage.
    report = cost_breakdown(store.get_run("run_acme"))
    assert [s["cost_usd"] for s in report["steps"]] == pytest.approx(ACME_STEPS)
    assert [s["prompt_tokens"] for s in report["steps"]] == [1000, 2000, 3000]
    # Per run: the steps' sum, on the run head too.
    assert report["total"]["cost_usd"] == pytest.approx(sum(ACME_STEPS))
    assert acme.usage.cost_usd == pytest.approx(sum(ACME_STEPS))
    assert (acme.usage.prompt_tokens, acme.usage.completion_tokens) == (6000, 160)
    assert list(report["by_model"]) == ["gpt-test"]
    assert report["by_model"]["gpt-test"]["total_tokens"] == 6160

    # Per tenant: the runs' sum, most expensive first.
    tenants = tenant_costs(stored_runs(store, page_size=1))
    assert [t.tenant for t in tenants] == ["acme", "beta"]
    assert tenants[0].usage.cost_usd == pytest.approx(sum(ACME_STEPS))
    assert tenants[1].usage.cost_usd == pytest.approx((500 * 1 + 25 * 4) / 1e6)
    assert tenants[0].to_dict()["by_status"] == {"succeeded": 1}

    # On the spans: each plan span carries its step's cost; the tree's totals agree.
    spans = [s for s in recorder.spans() if s["trace_id"] == acme.traceparent.split("-")[1]]  # type: ignore[union-attr]
    plans = named(spans, "plan")
    assert [p["attributes"]["paddock.cost_usd"] for p in plans] == pytest.approx(ACME_STEPS)
    assert {p["attributes"]["gen_ai.provider.name"] for p in plans} == {"openai"}
    assert totals(spans)["cost_usd"] == pytest.approx(sum(ACME_STEPS))
    assert "tokens 6000+160, $0.006640" in render(spans)

    # As metrics, by tenant and model.
    found = points(reader)
    cost = {p.attributes["paddock.tenant"]: p.value for p in found[m.COST]}
    assert cost == pytest.approx({"acme": sum(ACME_STEPS), "beta": 0.0006})
    tokens = {
        (p.attributes["paddock.tenant"], p.attributes["gen_ai.token.type"]): p.sum
        for p in found[m.TOKENS]
    }
    assert tokens == {
        ("acme", "input"): 6000,
        ("acme", "output"): 160,
        ("beta", "input"): 500,
        ("beta", "output"): 25,
    }
    calls = {
        (p.attributes["paddock.tool.name"], p.attributes["paddock.outcome"]): p.value
        for p in found[m.TOOL_CALLS]
    }
    assert calls == {("get_stock", "ok"): 1, ("save_note", "ok"): 1}
    runs = {
        (p.attributes["paddock.tenant"], p.attributes["paddock.run.status"]): p.value
        for p in found[m.RUNS]
    }
    assert runs == {("acme", "succeeded"): 1, ("beta", "succeeded"): 1}
    assert sum(p.value for p in found[m.DECISIONS]) == 2


def test_powertools_sink_prints_cloudwatch_emf_with_tenant_dimensions(
    capsys: pytest.CaptureFixture[str],
) -> None:
    sink = PowertoolsSink(namespace="PaddockTest")
    sink.add(
        m.COST,
        0.0025,
        unit="USD",
        attributes={"paddock.tenant": "acme", "gen_ai.request.model": "gpt-4o"},
    )
    [line] = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.strip()]
    [directive] = line["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "PaddockTest"
    assert directive["Metrics"][0]["Name"] == "PaddockCost"
    assert line["PaddockCost"] == [pytest.approx(0.0025)]
    assert (line["tenant"], line["model"]) == ("acme", "gpt-4o")


def test_tenant_costs_filter_by_tenant_and_age() -> None:
    from datetime import timedelta

    from core.domain import Usage, utcnow

    store = MemoryStore()
    now = utcnow()
    for run_id, tenant, cost, age in [
        ("run_a1", "acme", 0.5, 1),
        ("run_a2", "acme", 0.25, 40),
        ("run_b1", "beta", 1.0, 2),
    ]:
        store.create_run(
            Run(
                id=run_id,
                goal="g",
                tenant=tenant,
                created_at=now - timedelta(days=age),
                usage=Usage(prompt_tokens=10, completion_tokens=1, cost_usd=cost),
            )
        )
    everyone = tenant_costs(stored_runs(store))
    assert [(t.tenant, t.runs, t.usage.cost_usd) for t in everyone] == [
        ("beta", 1, 1.0),
        ("acme", 2, 0.75),
    ]
    recent = tenant_costs(stored_runs(store, since=now - timedelta(days=30)))
    assert [(t.tenant, t.usage.cost_usd) for t in recent] == [("beta", 1.0), ("acme", 0.5)]
    [acme] = tenant_costs(stored_runs(store, tenant="acme"))
    assert (acme.runs, acme.usage.prompt_tokens) == (2, 20)


def test_deps_wire_the_configured_metrics_into_the_orchestrator() -> None:
    from core.api import Deps
    from core.queue.memory import MemoryQueue
    from core.settings import Settings
    from core.telemetry.redact import uninstall_log_redaction

    settings = Settings.from_env({"PADDOCK_CLOUD": "aws", "PADDOCK_METRICS": "powertools"})
    deps = Deps(settings, store=MemoryStore(), queues={"aws": MemoryQueue()})
    try:
        observer = deps.orchestrator.observer
        while not isinstance(observer, MetricsObserver) and hasattr(observer, "inner"):
            observer = observer.inner  # wrappers that pass every event on (child runs)
        assert isinstance(observer, MetricsObserver)
        assert isinstance(observer.sink, PowertoolsSink)
        assert deps.orchestrator.tracing.cloud == "aws"
    finally:
        uninstall_log_redaction()


def test_tenant_costs_count_a_child_runs_spend_once() -> None:
    # A parent's usage includes its finished children's; the children are runs of their own.
    from tests.orchestrator.fanout import World

    world = World()
    world.start(3)
    world.drain()
    parent = world.store.get_run("run_parent")
    assert parent.usage.prompt_tokens == 100 + 3 * 10
    [tenant] = tenant_costs(stored_runs(world.store))
    assert (tenant.runs, tenant.usage.prompt_tokens) == (4, 100 + 3 * 10)
    assert tenant.usage.completion_tokens == 3 * 5
