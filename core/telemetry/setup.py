"""Telemetry from configuration: exporters (JSON lines, console, OTLP, Azure Monitor),
redaction, reasoning capture and metrics. One code path for the CLI, Lambda and Functions:
only the environment differs.
"""

from __future__ import annotations

import json
import logging
import os
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
from core.telemetry.exporters import JsonLinesExporter
from core.telemetry.redact import Redactor, install_log_redaction
from core.telemetry.tracing import RunTracer

log = logging.getLogger(__name__)
OTLP_PROTOCOLS = ("http/protobuf", "grpc")
METRICS_MODES = ("off", "otel", "powertools")
_ON = ("1", "true", "yes", "on")
_OFF = ("0", "false", "no", "off")


@dataclass(frozen=True)
class TelemetryConfig:
    """Where spans and metrics go and what they may hold. ``from_env`` documents the names."""

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
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        *,
        cloud: str = "local",
        default_file: str | Path | None = None,
        batch_default: bool | None = None,
    ) -> TelemetryConfig:
        """Read the configuration; raises ``ConfigError`` with one line for a bad value.

        ``batch_default`` applies when PADDOCK_TRACE_BATCH is unset (default: batch in the
        clouds, not locally)."""
        env = os.environ if env is None else env
        otlp = env.get("PADDOCK_OTLP_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        protocol = (
            (
                env.get("PADDOCK_OTLP_PROTOCOL")
                or env.get("OTEL_EXPORTER_OTLP_PROTOCOL")
                or "http/protobuf"
            )
            .strip()
            .lower()
        )
        if protocol not in OTLP_PROTOCOLS:
            raise ConfigError(
                f"PADDOCK_OTLP_PROTOCOL={protocol!r}: choose " + " or ".join(OTLP_PROTOCOLS)
            )
        monitor = env.get("APPLICATIONINSIGHTS_CONNECTION_STRING") or None
        console = _flag(env, "PADDOCK_TRACE_CONSOLE", False)
        exporting = bool(otlp or monitor or console)
        metrics = (env.get("PADDOCK_METRICS") or ("otel" if exporting else "off")).lower()
        if metrics not in METRICS_MODES:
            raise ConfigError(f"PADDOCK_METRICS={metrics!r}: choose " + ", ".join(METRICS_MODES))
        trace_file = env.get("PADDOCK_TRACE_FILE") or (str(default_file) if default_file else None)
        return cls(
            cloud=cloud,
            trace_file=trace_file,
            otlp_endpoint=otlp,
            otlp_protocol=protocol,
            console=console,
            azure_monitor=monitor,
            reasoning=_flag(env, "PADDOCK_TRACE_REASONING", True),
            max_text=_max_text(env.get("PADDOCK_TRACE_MAX_TEXT")),
            personal_data=_flag(env, "PADDOCK_REDACT_PERSONAL", True),
            redact_patterns=_patterns(env.get("PADDOCK_REDACT_PATTERNS")),
            metrics=metrics,
            batch=_flag(
                env,
                "PADDOCK_TRACE_BATCH",
                cloud in ("aws", "azure") if batch_default is None else batch_default,
            ),
            xray_ids=_flag(env, "PADDOCK_TRACE_XRAY_IDS", False),
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


def telemetry_from_env(
    env: Mapping[str, str] | None = None,
    *,
    cloud: str = "local",
    default_file: str | Path | None = None,
    batch_default: bool | None = None,
) -> Telemetry:
    """Build the process's telemetry from the environment (see ``TelemetryConfig``)."""
    return build_telemetry(
        TelemetryConfig.from_env(
            env, cloud=cloud, default_file=default_file, batch_default=batch_default
        )
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


def provider_from_env(
    env: Mapping[str, str] | None = None,
    *,
    cloud: str = "local",
    default_file: str | Path | None = None,
    batch: bool = False,
) -> TracerProvider:
    """A tracer provider alone, from the same variables as ``telemetry_from_env``."""
    config = TelemetryConfig.from_env(env, cloud=cloud, default_file=default_file)
    return build_provider(
        cloud=cloud,
        trace_file=config.trace_file,
        otlp_endpoint=config.otlp_endpoint,
        otlp_protocol=config.otlp_protocol,
        console=config.console,
        azure_monitor=config.azure_monitor,
        batch=batch,
    )


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


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    value = raw.strip().lower()
    if value in _ON:
        return True
    if value in _OFF:
        return False
    raise ConfigError(f"{name}={raw!r}: use on or off")


def _max_text(raw: str | None) -> int | None:
    if raw is None or not raw.strip():
        return 4000
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise ConfigError(f"PADDOCK_TRACE_MAX_TEXT={raw!r}: a number of characters (0: no limit)")
    return value or None


def _patterns(raw: str | None) -> tuple[str, ...]:
    if raw is None or not raw.strip():
        return ()
    text = raw.strip()
    if text.startswith("["):
        try:
            items = json.loads(text)
        except ValueError as exc:
            raise ConfigError(f"PADDOCK_REDACT_PATTERNS is not a JSON list: {exc}") from exc
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise ConfigError("PADDOCK_REDACT_PATTERNS must be a JSON list of strings")
        return tuple(items)
    return (text,)
