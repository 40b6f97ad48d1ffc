"""Telemetry from configuration: exporters (JSON lines, console, OTLP, Azure Monitor),
redaction, reasoning capture and metrics. One code path for the CLI, Lambda and Functions:
only the settings differ.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.sdk.trace.sampling import ALWAYS_ON

from core.domain.observer import RunObserver
from core.errors import ConfigError
from core.settings import TelemetrySettings
from core.telemetry.exporters import JsonLinesExporter
from core.telemetry.redact import Redactor, install_log_redaction
from core.telemetry.tracing import RunTracer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TelemetryConfig:
    """Where spans and metrics go and what they may hold, resolved for one process from its
    ``TelemetrySettings`` (whose fields name the variables)."""

    cloud: str = "local"
    trace_file: str | None = None
    """PADDOCK_TRACE_FILE: the JSON-lines span file ``paddock trace`` reads."""
    otlp_endpoint: str | None = None
    """PADDOCK_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_ENDPOINT): collector base URL."""
    otlp_protocol: str = "http/protobuf"
    """PADDOCK_OTLP_PROTOCOL (or OTEL_EXPORTER_OTLP_PROTOCOL): ``http/protobuf`` or ``grpc``."""
    console: bool = False
    """PADDOCK_TRACE_CONSOLE=1: print spans to stdout."""
    azure_monitor: str | None = None
    """APPLICATIONINSIGHTS_CONNECTION_STRING: export to Azure Monitor / Application Insights."""
    reasoning: bool = True
    """PADDOCK_TRACE_REASONING=off: keep the model's reasoning text out of spans."""
    max_text: int | None = 4000
    """PADDOCK_TRACE_MAX_TEXT: cut longer texts (0: no limit)."""
    personal_data: bool = True
    """PADDOCK_REDACT_PERSONAL=off: leave e-mail addresses and IBANs unmasked."""
    redact_patterns: tuple[str, ...] = ()
    """PADDOCK_REDACT_PATTERNS: one regular expression, or a JSON list of them, to mask too."""
    metrics: str = "off"
    """PADDOCK_METRICS: ``off``, ``otel`` (to the OTLP/Azure Monitor/console exporters) or
    ``powertools`` (CloudWatch EMF on Lambda). Default: ``otel`` when an exporter is set."""
    batch: bool = False
    """PADDOCK_TRACE_BATCH: export in the background (default on in the clouds; flushed at
    the end of every invocation)."""
    xray_ids: bool = False
    """PADDOCK_TRACE_XRAY_IDS=on: trace ids that start with the epoch second, as AWS X-Ray
    requires of ids it ingests through the X-Ray exporter of an OpenTelemetry collector."""

    @classmethod
    def from_settings(
        cls,
        settings: TelemetrySettings,
        *,
        cloud: str = "local",
        default_file: str | Path | None = None,
        batch_default: bool | None = None,
    ) -> TelemetryConfig:
        """The configuration of a process in ``cloud``: ``default_file`` is the span file when
        PADDOCK_TRACE_FILE is unset; ``batch_default`` applies when PADDOCK_TRACE_BATCH is
        unset (default: batch in the clouds, not locally); metrics default to ``otel`` when
        spans are exported."""
        exporting = bool(settings.otlp_endpoint or settings.azure_monitor or settings.console)
        batch = cloud in ("aws", "azure") if batch_default is None else batch_default
        return cls(
            cloud=cloud,
            trace_file=settings.trace_file or (str(default_file) if default_file else None),
            otlp_endpoint=settings.otlp_endpoint,
            otlp_protocol=settings.otlp_protocol,
            console=settings.console,
            azure_monitor=settings.azure_monitor,
            reasoning=settings.reasoning,
            max_text=settings.max_text or None,
            personal_data=settings.personal_data,
            redact_patterns=settings.redact_patterns,
            metrics=settings.metrics or ("otel" if exporting else "off"),
            batch=batch if settings.batch is None else settings.batch,
            xray_ids=settings.xray_ids,
        )

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        *,
        cloud: str = "local",
        default_file: str | Path | None = None,
        batch_default: bool | None = None,
    ) -> TelemetryConfig:
        """:meth:`from_settings` with the settings read from ``env`` (default: the process
        environment); raises ``ConfigError`` with one line for a bad value."""
        return cls.from_settings(
            TelemetrySettings.from_env(env),
            cloud=cloud,
            default_file=default_file,
            batch_default=batch_default,
        )

    @property
    def exports(self) -> bool:
        """Whether spans have anywhere to go."""
        return bool(self.trace_file or self.otlp_endpoint or self.console or self.azure_monitor)

    def redactor(self) -> Redactor:
        try:
            return Redactor.with_patterns(
                self.redact_patterns, personal_data=self.personal_data, max_text=self.max_text
            )
        except re.error as exc:
            raise ConfigError(f"PADDOCK_REDACT_PATTERNS: not a regular expression: {exc}") from exc


@dataclass
class Telemetry:
    """What a process holds: the loop's tracer, an optional metrics observer, and the
    providers to flush before a serverless invocation ends."""

    tracing: RunTracer
    observer: RunObserver | None = None
    provider: TracerProvider | None = None
    meter_provider: Any = None

    def flush(self, timeout_millis: int = 5000) -> None:
        """Export what is buffered (call at the end of a Lambda/Functions invocation)."""
        if self.provider is not None:
            self.provider.force_flush(timeout_millis)
        if self.meter_provider is not None:
            self.meter_provider.force_flush(timeout_millis)

    def shutdown(self) -> None:
        if self.provider is not None:
            self.provider.shutdown()
        if self.meter_provider is not None:
            self.meter_provider.shutdown()


def telemetry_from_settings(
    settings: TelemetrySettings,
    *,
    cloud: str = "local",
    default_file: str | Path | None = None,
    batch_default: bool | None = None,
) -> Telemetry:
    """Build the process's telemetry from its settings (see ``TelemetryConfig.from_settings``)."""
    return build_telemetry(
        TelemetryConfig.from_settings(
            settings, cloud=cloud, default_file=default_file, batch_default=batch_default
        )
    )


def telemetry_from_env(
    env: Mapping[str, str] | None = None,
    *,
    cloud: str = "local",
    default_file: str | Path | None = None,
    batch_default: bool | None = None,
) -> Telemetry:
    """:func:`telemetry_from_settings` with the settings read from ``env`` (default: the
    process environment)."""
    return telemetry_from_settings(
        TelemetrySettings.from_env(env),
        cloud=cloud,
        default_file=default_file,
        batch_default=batch_default,
    )


def build_telemetry(
    config: TelemetryConfig, *, extra: list[SpanExporter] | None = None
) -> Telemetry:
    """Providers, tracer and metrics for ``config``; installs log redaction process-wide."""
    redactor = config.redactor()
    install_log_redaction(redactor)
    provider = build_provider(
        cloud=config.cloud,
        trace_file=config.trace_file,
        otlp_endpoint=config.otlp_endpoint,
        otlp_protocol=config.otlp_protocol,
        console=config.console,
        azure_monitor=config.azure_monitor,
        extra=extra,
        batch=config.batch,
        xray_ids=config.xray_ids,
    )
    if config.exports or extra:
        tracing = RunTracer(
            tracer=provider.get_tracer("paddock"),
            redactor=redactor,
            record_reasoning=config.reasoning,
            cloud=config.cloud,
        )
    else:  # nowhere to send spans: do not make them
        tracing = RunTracer(
            tracer=trace.NoOpTracer(),
            redactor=redactor,
            record_reasoning=config.reasoning,
            cloud=config.cloud,
        )
    observer: RunObserver | None = None
    meter_provider: Any = None
    if config.metrics == "otel":
        from core.telemetry.metrics import MetricsObserver, OtelSink, build_meter_provider

        meter_provider = build_meter_provider(config)
        observer = MetricsObserver(OtelSink(meter_provider.get_meter("paddock")))
    elif config.metrics == "powertools":
        from core.telemetry.metrics import MetricsObserver, PowertoolsSink

        observer = MetricsObserver(PowertoolsSink())
    return Telemetry(
        tracing=tracing, observer=observer, provider=provider, meter_provider=meter_provider
    )


def resource_for(cloud: str) -> Resource:
    return Resource.create(
        {
            "service.name": "paddock",
            "paddock.cloud": cloud,
            "cloud.provider": {"aws": "aws", "azure": "azure"}.get(cloud, "local"),
        }
    )


def build_provider(
    *,
    cloud: str = "local",
    trace_file: str | Path | None = None,
    otlp_endpoint: str | None = None,
    otlp_protocol: str = "http/protobuf",
    console: bool = False,
    azure_monitor: str | None = None,
    extra: list[SpanExporter] | None = None,
    batch: bool = False,
    xray_ids: bool = False,
) -> TracerProvider:
    """A provider exporting to every configured destination.

    ``batch`` uses a background batch processor (servers); otherwise spans are written as
    they end (CLI runs, tests). ``xray_ids`` makes trace ids X-Ray accepts.
    """
    # Always on, whatever the parent says: a caller's traceparent with the sampled flag off
    # must not switch off the record of what the agent did.
    provider = TracerProvider(
        resource=resource_for(cloud),
        sampler=ALWAYS_ON,
        id_generator=XRayIdGenerator() if xray_ids else None,
    )

    def add(exporter: SpanExporter) -> None:
        processor: SpanProcessor = (
            BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter)
        )
        provider.add_span_processor(processor)

    if trace_file:
        add(JsonLinesExporter(trace_file))
    if console:
        add(ConsoleSpanExporter())
    if otlp_endpoint:
        add(_otlp_span_exporter(otlp_endpoint, otlp_protocol))
    if azure_monitor:
        monitor = _azure_monitor_span_exporter(azure_monitor, provider)
        if monitor is not None:
            add(monitor)
    for exporter in extra or []:
        add(exporter)
    return provider


class XRayIdGenerator(RandomIdGenerator):
    """Trace ids whose first 32 bits are the epoch second (the X-Ray trace id layout); the
    other 96 bits and the span ids are random. Still valid W3C trace context."""

    def generate_trace_id(self) -> int:
        return (int(time.time()) << 96) | random.getrandbits(96)


def _otlp_span_exporter(endpoint: str, protocol: str) -> SpanExporter:
    try:
        if protocol == "grpc":
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
                OTLPSpanExporter as GrpcExporter,
            )

            return GrpcExporter(endpoint=endpoint)
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    except ImportError as exc:
        raise ConfigError("OTLP export needs the otlp extra: pip install 'paddock[otlp]'") from exc
    return OTLPSpanExporter(endpoint=endpoint.rstrip("/") + "/v1/traces")


def _azure_monitor_span_exporter(
    connection_string: str, provider: TracerProvider
) -> SpanExporter | None:
    try:
        from azure.monitor.opentelemetry.exporter import AzureMonitorTraceExporter
    except ImportError:
        # The Functions host sets the variable whenever Application Insights is on; a
        # package without the exporter keeps working, without those spans.
        log.warning(
            "APPLICATIONINSIGHTS_CONNECTION_STRING is set but "
            "azure-monitor-opentelemetry-exporter is not installed: no spans go "
            "to Azure Monitor (pip install 'paddock[azure]')"
        )
        return None
    try:
        exporter: SpanExporter = AzureMonitorTraceExporter(
            connection_string=connection_string,
            disable_offline_storage=True,
            tracer_provider=provider,
        )
    except ValueError as exc:
        raise ConfigError(f"APPLICATIONINSIGHTS_CONNECTION_STRING is not valid: {exc}") from exc
    return exporter
