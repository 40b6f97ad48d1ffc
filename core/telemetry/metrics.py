"""Metrics of runs: tokens, USD, decisions, tool calls, run outcomes, by tenant and model.

``MetricsObserver`` watches the loop through the ``RunObserver`` hooks and writes to a
``MetricSink``: OpenTelemetry (OTLP, Azure Monitor, console) or Powertools (CloudWatch EMF on
Lambda). Which one is configuration (``PADDOCK_METRICS``), not code.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from core.domain import CallRecord, Run, Step

if TYPE_CHECKING:
    from core.telemetry.setup import TelemetryConfig

TOKENS = "gen_ai.client.token.usage"
COST = "paddock.cost"
STEPS = "paddock.steps"
DECISIONS = "paddock.guard.decisions"
TOOL_CALLS = "paddock.tool.calls"
TOOL_DURATION = "paddock.tool.duration"
RUNS = "paddock.runs"
SCHEMA_DRIFT = "paddock.schema_drift"


class MetricSink(Protocol):
    """Where metric points go."""

    def add(self, name: str, value: float, *, unit: str, attributes: Mapping[str, str]) -> None:
        """Add to a counter."""
        ...

    def record(self, name: str, value: float, *, unit: str, attributes: Mapping[str, str]) -> None:
        """Record one value of a distribution (histogram)."""
        ...


class OtelSink:
    """OpenTelemetry instruments, created on first use."""

    def __init__(self, meter: Any) -> None:
        self._meter = meter
        self._instruments: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _get(self, name: str, unit: str, histogram: bool) -> Any:
        with self._lock:
            found = self._instruments.get(name)
            if found is None:
                make = self._meter.create_histogram if histogram else self._meter.create_counter
                found = make(name, unit=unit)
                self._instruments[name] = found
            return found

    def add(self, name: str, value: float, *, unit: str, attributes: Mapping[str, str]) -> None:
        self._get(name, unit, False).add(value, dict(attributes))

    def record(self, name: str, value: float, *, unit: str, attributes: Mapping[str, str]) -> None:
        self._get(name, unit, True).record(value, dict(attributes))


class PowertoolsSink:
    """CloudWatch embedded-metric-format lines through Powertools (Lambda), one per point."""

    def __init__(self, namespace: str = "Paddock") -> None:
        self.namespace = namespace

    def add(self, name: str, value: float, *, unit: str, attributes: Mapping[str, str]) -> None:
        from aws_lambda_powertools.metrics import MetricUnit, single_metric

        units = {
            "ms": MetricUnit.Milliseconds,
            "{call}": MetricUnit.Count,
            "{token}": MetricUnit.Count,
        }
        metric_unit = units.get(
            unit, MetricUnit.Count if unit.startswith("{") else MetricUnit.NoUnit
        )
        with single_metric(
            name=_emf_name(name), unit=metric_unit, value=value, namespace=self.namespace
        ) as metric:
            for key, val in attributes.items():
                if val:
                    metric.add_dimension(name=key.rsplit(".", 1)[-1], value=val)

    def record(self, name: str, value: float, *, unit: str, attributes: Mapping[str, str]) -> None:
        self.add(name, value, unit=unit, attributes=attributes)


class MetricsObserver:
    """A ``RunObserver`` that turns the loop's progress into metric points."""

    def __init__(self, sink: MetricSink) -> None:
        self.sink = sink

    def step_planned(self, run: Run, step: Step) -> None:
        model = step.model or step.planner or run.planner
        base = {"paddock.tenant": run.tenant, "gen_ai.request.model": model}
        usage = step.usage
        for kind, count in (("input", usage.prompt_tokens), ("output", usage.completion_tokens)):
            if count:
                self.sink.record(
                    TOKENS, count, unit="{token}", attributes={**base, "gen_ai.token.type": kind}
                )
        if usage.cost_usd:
            self.sink.add(COST, usage.cost_usd, unit="USD", attributes=base)
        self.sink.add(STEPS, 1, unit="{step}", attributes={"paddock.tenant": run.tenant})

    def call_decided(self, run: Run, step: Step, call: CallRecord) -> None:
        verdict = call.decision.verdict.value if call.decision else "none"
        self.sink.add(
            DECISIONS,
            1,
            unit="{decision}",
            attributes={
                "paddock.tenant": run.tenant,
                "paddock.tool.name": call.tool,
                "paddock.decision": verdict,
            },
        )

    def call_finished(self, run: Run, step: Step, call: CallRecord) -> None:
        attrs = {
            "paddock.tenant": run.tenant,
            "paddock.tool.name": call.tool,
            "paddock.cloud": call.cloud,
            "paddock.outcome": _outcome(call),
        }
        self.sink.add(TOOL_CALLS, 1, unit="{call}", attributes=attrs)
        if call.started_at is not None and call.ended_at is not None:
            millis = (call.ended_at - call.started_at).total_seconds() * 1000
            self.sink.record(TOOL_DURATION, max(0.0, millis), unit="ms", attributes=attrs)
        for finding in call.drift:
            self.sink.add(
                SCHEMA_DRIFT,
                1,
                unit="{finding}",
                attributes={
                    "paddock.tenant": run.tenant,
                    "paddock.tool.name": call.tool,
                    "paddock.drift.kind": str(finding.get("kind", "unknown")),
                },
            )

    def run_paused(self, run: Run) -> None:
        self.sink.add(
            RUNS,
            1,
            unit="{run}",
            attributes={"paddock.tenant": run.tenant, "paddock.run.status": run.status.value},
        )

    def run_finished(self, run: Run) -> None:
        self.sink.add(
            RUNS,
            1,
            unit="{run}",
            attributes={"paddock.tenant": run.tenant, "paddock.run.status": run.status.value},
        )


def build_meter_provider(config: TelemetryConfig, *, readers: list[Any] | None = None) -> Any:
    """An OpenTelemetry ``MeterProvider`` exporting where ``config`` says."""
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import (
        ConsoleMetricExporter,
        PeriodicExportingMetricReader,
    )

    from core.telemetry.setup import resource_for

    all_readers = list(readers or [])
    exporters: list[Any] = []
    if config.otlp_endpoint:
        exporters.append(_otlp_metric_exporter(config.otlp_endpoint, config.otlp_protocol))
    if config.azure_monitor:
        try:
            from azure.monitor.opentelemetry.exporter import AzureMonitorMetricExporter
        except ImportError:
            pass  # warned about once by the span exporter
        else:
            exporters.append(
                AzureMonitorMetricExporter(
                    connection_string=config.azure_monitor, disable_offline_storage=True
                )
            )
    if config.console:
        exporters.append(ConsoleMetricExporter())
    all_readers += [
        PeriodicExportingMetricReader(e, export_interval_millis=60_000) for e in exporters
    ]
    return MeterProvider(resource=resource_for(config.cloud), metric_readers=all_readers)


def _otlp_metric_exporter(endpoint: str, protocol: str) -> Any:
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import (
            OTLPMetricExporter as GrpcExporter,
        )

        return GrpcExporter(endpoint=endpoint)
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

    return OTLPMetricExporter(endpoint=endpoint.rstrip("/") + "/v1/metrics")


def _outcome(call: CallRecord) -> str:
    if call.error:
        return "error"
    if call.status_code is not None and call.status_code >= 400:
        return f"http_{call.status_code // 100}xx"
    return "ok"


def _emf_name(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("gen_ai.", "").split("."))
