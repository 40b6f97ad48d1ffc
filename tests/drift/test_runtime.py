"""Drift at run time, end to end: a real local service changes its responses mid-run."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from core.catalog import Catalog
from core.domain import CallStatus, Plan, ProposedCall, Run, RunStatus
from core.execution.http import HttpExecutor
from core.guardrails.base import PassThroughGuard
from core.orchestrator.engine import Orchestrator
from core.planner.base import observation
from core.state.memory import MemoryStore
from paddock.local.servers import LocalServer
from paddock.testing.planner import ScriptedPlanner
from tests.drift.service import SupplierService

LOOKUP = Plan(
    reasoning="find the supplier",
    calls=[ProposedCall(id="c1", tool="getSupplier", args={"name": "Acme"})],
)
ORDER = Plan(
    reasoning="order from it",
    calls=[
        ProposedCall(
            id="c2", tool="createOrder", args={"body": {"supplier_id": "S-17", "quantity": 5}}
        )
    ],
)
DONE = Plan(reasoning="done", final_answer="ordered 5 from Acme")


class Harness:
    def __init__(self, service: SupplierService, url: str) -> None:
        self.service = service
        self.url = url
        self.store = MemoryStore()
        self.planner = ScriptedPlanner([LOOKUP, ORDER, DONE])
        # The operator's own copy of the spec: its x-paddock-drift label is the operator's word
        # (a spec fetched from a URL is the publisher's, whose labels may only tighten).
        catalog = Catalog()
        source = f"{url}/openapi.json"
        catalog.add_document(httpx.get(source).json(), source=source)
        self.orch = Orchestrator(
            store=self.store,
            catalogs=lambda run: catalog,
            planners=lambda run: self.planner,
            guard=PassThroughGuard(),
            executor=HttpExecutor(),
        )

    def start(self) -> Run:
        self.orch.create(Run(id="run_drift", goal="order 5 from Acme"))
        return self.orch.advance("run_drift").run


def harness(mode: str | None) -> Iterator[Harness]:
    service = SupplierService(drift_mode=mode)
    with LocalServer(service.app) as server:
        yield Harness(service, server.url)


@pytest.fixture()
def h() -> Iterator[Harness]:
    yield from harness(None)


@pytest.fixture(params=["fail", "warn"])
def moded(request: pytest.FixtureRequest) -> Iterator[Harness]:
    yield from harness(request.param)


def lookup_call(run: Run) -> Any:
    return run.steps[0].calls[0]


def test_contract_kept_the_run_succeeds_without_drift(h: Harness) -> None:
    run = h.start()
    assert run.status is RunStatus.SUCCEEDED
    assert lookup_call(run).drift == []
    assert (lookup_call(run).spec_version or "").startswith("1.0 sha256:")
    assert len(h.service.orders) == 1


def test_renamed_field_pauses_the_run_and_names_the_field(h: Harness) -> None:
    h.service.renamed = True
    run = h.start()
    assert run.status is RunStatus.AWAITING_APPROVAL
    assert run.reason is not None and run.reason.startswith("schema_drift: getSupplier")
    assert "$.ID" in run.reason
    finding = lookup_call(run).drift[0]
    assert finding["kind"] == "response_schema"
    assert finding["operation"] == "getSupplier" and finding["field"] == "$.ID"
    assert "'ID' is a required property" in finding["error"]
    assert (finding["expected"], finding["seen"]) == ("required property", "missing")
    [approval] = run.pending_approvals
    assert approval.rule_ids == ["schema_drift"] and approval.tool == "getSupplier"
    assert lookup_call(run).quarantined
    # Paused before the planner saw the unvalidated data; nothing was written.
    assert len(h.planner.contexts) == 1
    assert h.service.writes == []
    again = h.orch.advance("run_drift").run
    assert again.status is RunStatus.AWAITING_APPROVAL and h.service.writes == []


def test_rejected_drift_keeps_the_response_from_the_planner(h: Harness) -> None:
    h.service.renamed = True
    run = h.start()
    h.orch.decide(
        run.id,
        run.pending_approvals[0].id,
        approver="ops",
        approve=False,
        comment="contract changed",
    )
    run = h.orch.advance(run.id).run
    seen = observation(h.planner.contexts[1].steps[0].calls[0])
    assert seen.startswith("RESPONSE WITHHELD") and "S-17" not in seen
    assert "contract changed" in seen
    assert run.status is RunStatus.SUCCEEDED  # the scripted planner orders anyway


def test_accepted_drift_hands_the_response_on(h: Harness) -> None:
    h.service.renamed = True
    run = h.start()
    h.orch.decide(run.id, run.pending_approvals[0].id, approver="ops", approve=True)
    run = h.orch.advance(run.id).run
    assert run.status is RunStatus.SUCCEEDED
    seen = observation(h.planner.contexts[1].steps[0].calls[0])
    assert "S-17" in seen and not lookup_call(run).quarantined
    assert len(h.service.orders) == 1


def test_drift_mode_fail_or_warn(moded: Harness) -> None:
    moded.service.renamed = True
    run = moded.start()
    mode = moded.service.drift_mode
    assert lookup_call(run).drift[0]["field"] == "$.ID"
    if mode == "fail":
        assert run.status is RunStatus.FAILED
        assert run.error == "schema_drift: getSupplier ($.ID)"
        assert moded.service.writes == []
    else:
        assert run.status is RunStatus.SUCCEEDED
        assert not lookup_call(run).quarantined
        assert len(moded.service.orders) == 1


def test_backend_422_naming_an_unknown_field_is_drift(h: Harness) -> None:
    h.service.wants_uuid_in_orders = True
    run = h.start()
    order = run.steps[1].calls[0]
    assert order.status is CallStatus.ERROR and order.status_code == 422
    assert [(d["kind"], d["field"]) for d in order.drift] == [
        ("unknown_field_in_error", "supplier_uuid")
    ]
    assert run.status is RunStatus.AWAITING_APPROVAL
    assert run.reason == "schema_drift: createOrder (supplier_uuid)"


def test_a_422_about_known_fields_is_an_ordinary_error(h: Harness) -> None:
    h.service.quantity_limit = 2
    run = h.start()
    order = run.steps[1].calls[0]
    assert order.status_code == 422 and order.drift == []
    assert run.status is RunStatus.SUCCEEDED  # the planner saw the error and finished


def test_drift_is_an_event_on_the_tool_span(h: Harness) -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from core.telemetry.tracing import RunTracer

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    h.orch.tracing = RunTracer(tracer=provider.get_tracer("test"))
    h.service.renamed = True
    h.start()
    events = [
        (span.name, event)
        for span in exporter.get_finished_spans()
        for event in span.events
        if event.name == "paddock.schema_drift"
    ]
    assert len(events) == 1
    findings = json.loads(str(events[0][1].attributes["findings"]))
    assert findings[0]["field"] == "$.ID" and findings[0]["operation"] == "getSupplier"


class ListSink:
    def __init__(self) -> None:
        self.points: list[tuple[str, float, dict[str, str]]] = []

    def add(self, name: str, value: float, *, unit: str, attributes: Any) -> None:
        self.points.append((name, value, dict(attributes)))

    def record(self, name: str, value: float, *, unit: str, attributes: Any) -> None:
        self.points.append((name, value, dict(attributes)))


def test_drift_is_counted_as_a_metric(h: Harness) -> None:
    from core.telemetry.metrics import SCHEMA_DRIFT, MetricsObserver

    sink = ListSink()
    h.orch.observer = MetricsObserver(sink)
    h.service.renamed = True
    h.start()
    drift = [(v, a) for n, v, a in sink.points if n == SCHEMA_DRIFT]
    assert drift == [
        (
            1,
            {
                "paddock.tenant": "default",
                "paddock.tool.name": "getSupplier",
                "paddock.drift.kind": "response_schema",
            },
        )
    ]


def test_sunset_and_deprecation_headers_are_recorded_without_pausing(h: Harness) -> None:
    h.service.sunset = "Wed, 30 Jun 2027 23:59:59 GMT"
    run = h.start()
    assert run.status is RunStatus.SUCCEEDED and len(h.service.orders) == 1
    notices = {d["kind"]: d for d in lookup_call(run).drift}
    assert set(notices) == {"sunset_announced", "deprecation_announced"}
    assert notices["sunset_announced"]["seen"] == "Wed, 30 Jun 2027 23:59:59 GMT"
    assert notices["sunset_announced"]["blocking"] is False
    assert "GET /suppliers/{name} will be withdrawn" in notices["sunset_announced"]["error"]
    assert not lookup_call(run).quarantined


def test_a_notice_next_to_real_drift_still_pauses_on_the_drift_only(h: Harness) -> None:
    h.service.sunset = "Wed, 30 Jun 2027 23:59:59 GMT"
    h.service.renamed = True
    run = h.start()
    assert run.status is RunStatus.AWAITING_APPROVAL
    assert run.reason == "schema_drift: getSupplier ($.ID)"
    assert len(run.pending_approvals[0].reasons) == 1
