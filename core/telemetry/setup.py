"""Build a tracer provider from configuration: JSON lines, console, OTLP, Azure Monitor."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)

from core.errors import ConfigError
from core.telemetry.exporters import JsonLinesExporter


def build_provider(*, cloud: str = "local", trace_file: str | Path | None = None,
                   otlp_endpoint: str | None = None, console: bool = False,
                   azure_monitor: str | None = None,
                   extra: list[SpanExporter] | None = None,
                   batch: bool = False) -> TracerProvider:
    """A provider exporting to every configured destination.

    ``batch`` uses a background batch processor (servers); otherwise spans are written as
    they end (CLI runs, tests).
    """
    provider = TracerProvider(resource=Resource.create({
        "service.name": "paddock", "paddock.cloud": cloud,
        "cloud.provider": {"aws": "aws", "azure": "azure"}.get(cloud, "local")}))

    def add(exporter: SpanExporter) -> None:
        processor: SpanProcessor = (BatchSpanProcessor(exporter) if batch
                                    else SimpleSpanProcessor(exporter))
        provider.add_span_processor(processor)

    if trace_file:
        add(JsonLinesExporter(trace_file))
    if console:
        add(ConsoleSpanExporter())
    if otlp_endpoint:
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError as exc:
            raise ConfigError("OTLP export needs the otlp extra: pip install "
                              "'paddock[otlp]'") from exc
        add(OTLPSpanExporter(endpoint=otlp_endpoint.rstrip("/") + "/v1/traces"))
    if azure_monitor:
        try:
            from azure.monitor.opentelemetry.exporter import (  # type: ignore[import-not-found]
                AzureMonitorTraceExporter,
            )
        except ImportError as exc:
            raise ConfigError("Azure Monitor export needs azure-monitor-opentelemetry-"
                              "exporter installed") from exc
        add(AzureMonitorTraceExporter(connection_string=azure_monitor))
    for exporter in extra or []:
        add(exporter)
    return provider


def provider_from_env(env: Mapping[str, str] | None = None, *, cloud: str = "local",
                      default_file: str | Path | None = None,
                      batch: bool = False) -> TracerProvider:
    """PADDOCK_TRACE_FILE, PADDOCK_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_ENDPOINT),
    PADDOCK_TRACE_CONSOLE=1, APPLICATIONINSIGHTS_CONNECTION_STRING."""
    env = os.environ if env is None else env
    return build_provider(
        cloud=cloud,
        trace_file=env.get("PADDOCK_TRACE_FILE") or default_file,
        otlp_endpoint=env.get("PADDOCK_OTLP_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_ENDPOINT"),
        console=env.get("PADDOCK_TRACE_CONSOLE", "") in ("1", "true"),
        azure_monitor=env.get("APPLICATIONINSIGHTS_CONNECTION_STRING"),
        batch=batch,
    )
