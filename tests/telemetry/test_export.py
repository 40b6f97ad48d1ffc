"""Exporters chosen by configuration, against real local receivers: an OTLP/HTTP collector, an
OTLP/gRPC collector, an Application Insights ingestion endpoint; the JSON-lines file written
by the API and worker processes as configured; one-line errors for bad settings."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
import pytest
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from core.api import Deps, Worker
from core.domain import Run
from core.entry import api_handler
from core.errors import ConfigError
from core.queue.memory import MemoryQueue
from core.settings import Settings
from core.state.memory import MemoryStore
from core.telemetry.exporters import read_spans
from core.telemetry.redact import uninstall_log_redaction
from core.telemetry.setup import TelemetryConfig, telemetry_from_env
from paddock.local.servers import LocalServer, free_port
from tests.api.world import World
from tests.functions.orders_spec import ORDERS_SPEC
from tests.orchestrator.service import OrdersService

SECRET_GOAL = "restock; api_key=abcdef123456 for jane@acme.example"


@pytest.fixture(autouse=True)
def _no_log_redaction_left_behind() -> Iterator[None]:
    yield
    uninstall_log_redaction()


class Collector:
    """OTLP/HTTP receiver: /v1/traces and /v1/metrics, protobuf bodies."""

    def __init__(self) -> None:
        self.traces: list[Any] = []
        self.metrics: list[Any] = []
        self.app = Starlette(
            routes=[
                Route("/v1/traces", self.trace, methods=["POST"]),
                Route("/v1/metrics", self.metric, methods=["POST"]),
            ]
        )

    @staticmethod
    async def _body(request: Request) -> bytes:
        body = await request.body()
        return gzip.decompress(body) if request.headers.get("content-encoding") == "gzip" else body

    async def trace(self, request: Request) -> Response:
        message = trace_service_pb2.ExportTraceServiceRequest()
        message.ParseFromString(await self._body(request))
        self.traces.append(message)
        return Response(
            trace_service_pb2.ExportTraceServiceResponse().SerializeToString(),
            media_type="application/x-protobuf",
        )

    async def metric(self, request: Request) -> Response:
        message = metrics_service_pb2.ExportMetricsServiceRequest()
        message.ParseFromString(await self._body(request))
        self.metrics.append(message)
        return Response(
            metrics_service_pb2.ExportMetricsServiceResponse().SerializeToString(),
            media_type="application/x-protobuf",
        )


def span_names(requests: list[Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for request in requests:
        for resource_spans in request.resource_spans:
            resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            for scope in resource_spans.scope_spans:
                for span in scope.spans:
                    attrs = {a.key: a.value for a in span.attributes}
                    found[span.name] = {"resource": resource, "attributes": attrs}
    return found


def test_otlp_http_export_sends_spans_and_metrics_to_the_collector() -> None:
    collector = Collector()
    with LocalServer(collector.app, name="otlp") as server:
        telemetry = telemetry_from_env({"PADDOCK_OTLP_ENDPOINT": server.url}, cloud="aws")
        assert telemetry.observer is not None  # metrics follow the exporter by default
        run = Run(id="run_otlp", goal=SECRET_GOAL, tenant="acme")
        run.traceparent = telemetry.tracing.start_run(run)
        with telemetry.tracing.advance(run):
            pass
        telemetry.observer.run_finished(run)
        telemetry.flush()
        telemetry.shutdown()
    spans = span_names(collector.traces)
    assert set(spans) == {"run", "advance"}
    assert spans["run"]["resource"]["paddock.cloud"] == "aws"
    assert spans["run"]["resource"]["cloud.provider"] == "aws"
    goal = spans["run"]["attributes"]["paddock.goal"].string_value
    assert "abcdef123456" not in goal and "jane@acme.example" not in goal
    names = {
        m.name
        for r in collector.metrics
        for rm in r.resource_metrics
        for sm in rm.scope_metrics
        for m in sm.metrics
    }
    assert "paddock.runs" in names


class GrpcCollector(trace_service_pb2_grpc.TraceServiceServicer):  # type: ignore[misc]
    def __init__(self) -> None:
        self.requests: list[Any] = []

    def Export(self, request: Any, context: Any) -> Any:  # the gRPC method name
        self.requests.append(request)
        return trace_service_pb2.ExportTraceServiceResponse()


def test_otlp_grpc_export_reaches_a_grpc_collector() -> None:
    servicer = GrpcCollector()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(servicer, server)
    port = free_port()
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    try:
        telemetry = telemetry_from_env(
            {
                "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}",
                "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
                "PADDOCK_METRICS": "off",
            },
            cloud="azure",
        )
        telemetry.tracing.start_run(Run(id="run_grpc", goal="g"))
        telemetry.flush()
        telemetry.shutdown()
    finally:
        server.stop(0)
    spans = span_names(servicer.requests)
    assert spans["run"]["resource"]["paddock.cloud"] == "azure"


def test_azure_monitor_export_posts_to_the_ingestion_endpoint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The exporter's own usage statistics would outlive the local endpoint.
    monkeypatch.setenv("APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL", "true")
    monkeypatch.setenv("APPLICATIONINSIGHTS_SDKSTATS_DISABLED", "true")
    received: list[dict[str, Any]] = []

    async def track(request: Request) -> JSONResponse:
        body = await request.body()
        if request.headers.get("content-encoding") == "gzip":
            body = gzip.decompress(body)
        items = json.loads(body)
        received.extend(items)
        return JSONResponse(
            {"itemsReceived": len(items), "itemsAccepted": len(items), "errors": []}
        )

    app = Starlette(routes=[Route("/v2.1/track", track, methods=["POST"])])
    with LocalServer(app, name="ingestion") as server:
        telemetry = telemetry_from_env(
            {
                "APPLICATIONINSIGHTS_CONNECTION_STRING": "InstrumentationKey="
                "00000000-0000-0000-0000-000000000001;"
                f"IngestionEndpoint={server.url}"
            },
            cloud="azure",
        )
        telemetry.tracing.start_run(Run(id="run_ai", goal=SECRET_GOAL))
        telemetry.flush()
        telemetry.shutdown()
    spans = [i for i in received if i["name"].endswith("RemoteDependency")]
    assert [s["data"]["baseData"]["name"] for s in spans] == ["run"]
    props = spans[0]["data"]["baseData"]["properties"]
    assert props["paddock.run.id"] == "run_ai"
    assert "abcdef123456" not in json.dumps(received)


@pytest.fixture()
def orders_with_spec() -> Iterator[str]:
    service = OrdersService()

    async def spec(_: Request) -> JSONResponse:
        return JSONResponse(ORDERS_SPEC)

    app = Starlette(routes=[Route("/openapi.json", spec), Mount("/", service.app)])
    with LocalServer(app, name="orders+spec") as server:
        yield server.url


def test_the_api_and_worker_write_the_configured_trace_file(
    world: World, orders_with_spec: str, tmp_path: Path
) -> None:
    """Deps builds telemetry from the settings; batching is flushed per message."""
    trace_file = tmp_path / "spans.jsonl"
    settings = Settings.from_env(
        {
            "PADDOCK_AUTH_ISSUER": world.issuer.issuer,
            "PADDOCK_LOCAL_MODE": "1",
            "PADDOCK_TRACE_FILE": str(trace_file),
            "PADDOCK_TRACE_BATCH": "on",
        }
    )
    store, queue = MemoryStore(), MemoryQueue()
    deps = Deps(
        settings,
        store=store,
        queues={"local": queue},
    )
    api, worker = api_handler(deps), Worker(deps)
    world.api, world.queue, world.worker = api, queue, worker
    response = world.request(
        "POST",
        "/runs",
        body={"goal": "is A-1 in stock?", "catalog": [f"{orders_with_spec}/openapi.json"]},
    )
    assert response.status == 202, response.body
    run_id = response.json()["run_id"]
    assert [s["name"] for s in read_spans(trace_file)] == ["run"]  # flushed by the API
    world.drain()
    run = store.get_run(run_id)
    spans = read_spans(trace_file, trace_id=run.traceparent.split("-")[1])  # type: ignore[union-attr]
    names = [s["name"] for s in spans]
    assert {"run", "process advance", "advance", "step", "plan"} <= set(names)
    assert {s["resource"]["paddock.cloud"] for s in spans} == {"local"}


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"PADDOCK_OTLP_PROTOCOL": "thrift"}, "PADDOCK_OTLP_PROTOCOL"),
        ({"PADDOCK_METRICS": "statsd"}, "PADDOCK_METRICS"),
        ({"PADDOCK_TRACE_REASONING": "maybe"}, "PADDOCK_TRACE_REASONING"),
        ({"PADDOCK_TRACE_MAX_TEXT": "-3"}, "PADDOCK_TRACE_MAX_TEXT"),
        ({"PADDOCK_TRACE_MAX_TEXT": "lots"}, "PADDOCK_TRACE_MAX_TEXT"),
        ({"PADDOCK_REDACT_PATTERNS": "[1, 2]"}, "PADDOCK_REDACT_PATTERNS"),
        ({"PADDOCK_REDACT_PATTERNS": "(unclosed"}, "PADDOCK_REDACT_PATTERNS"),
    ],
)
def test_bad_settings_are_one_line_config_errors(env: dict[str, str], needle: str) -> None:
    with pytest.raises(ConfigError) as caught:
        telemetry_from_env(env)
    assert needle in caught.value.message and "\n" not in caught.value.message


def test_defaults_are_the_embedded_json_lines_file_and_no_metrics(tmp_path: Path) -> None:
    config = TelemetryConfig.from_env({}, default_file=tmp_path / "t.jsonl")
    assert (config.trace_file, config.metrics, config.batch) == (
        str(tmp_path / "t.jsonl"),
        "off",
        False,
    )
    assert TelemetryConfig.from_env({}, cloud="aws").batch is True
    assert TelemetryConfig.from_env({"PADDOCK_TRACE_MAX_TEXT": "0"}).max_text is None


def test_xray_trace_ids_start_with_the_epoch_second() -> None:
    import time

    telemetry = telemetry_from_env(
        {"PADDOCK_TRACE_XRAY_IDS": "on", "PADDOCK_TRACE_CONSOLE": "on", "PADDOCK_METRICS": "off"}
    )
    before = int(time.time())
    traceparent = telemetry.tracing.start_run(Run(id="run_xray", goal="g"))
    assert traceparent is not None
    trace_id = traceparent.split("-")[1]
    assert before <= int(trace_id[:8], 16) <= int(time.time())
    telemetry.shutdown()


def test_without_a_destination_no_spans_are_made() -> None:
    telemetry = telemetry_from_env({})
    assert telemetry.tracing.start_run(Run(id="run_plain", goal="g")) is None
