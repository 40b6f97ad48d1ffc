"""Where spans and metrics go, and what they may hold (``core.telemetry``, the console)."""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BeforeValidator, Field, field_validator

from core.settings._base import EnvGroup, Flag, Lowered, OptionalFlag

OtlpProtocol = Literal["http/protobuf", "grpc"]
MetricsMode = Literal["off", "otel", "powertools"]
DEFAULT_MAX_TEXT = 4000


def _patterns(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    text = value.strip()
    if not text:
        return ()
    if not text.startswith("["):
        return (text,)
    try:
        items = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"not a JSON list: {exc}") from None
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise ValueError("must be a JSON list of strings")
    return tuple(items)


class TelemetrySettings(EnvGroup):
    """Exporters (JSON lines, console, OTLP, Azure Monitor), redaction and metrics.

    Unset values that depend on the process (the trace file of the CLI, batching in the
    clouds, metrics when an exporter is set) are resolved by ``core.telemetry.setup``.
    """

    trace_file: str | None = Field(default=None, validation_alias="PADDOCK_TRACE_FILE")
    """PADDOCK_TRACE_FILE: the JSON-lines span file ``paddock trace`` reads."""
    otlp_endpoint: str | None = Field(
        default=None,
        validation_alias=AliasChoices("PADDOCK_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"),
    )
    """PADDOCK_OTLP_ENDPOINT (else OTEL_EXPORTER_OTLP_ENDPOINT): the collector's base URL."""
    otlp_protocol: Annotated[OtlpProtocol, Lowered] = Field(
        default="http/protobuf",
        validation_alias=AliasChoices("PADDOCK_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"),
    )
    """PADDOCK_OTLP_PROTOCOL (else OTEL_EXPORTER_OTLP_PROTOCOL): ``http/protobuf`` or
    ``grpc``."""
    console: Flag = Field(default=False, validation_alias="PADDOCK_TRACE_CONSOLE")
    """PADDOCK_TRACE_CONSOLE: print spans to stdout."""
    azure_monitor: str | None = Field(
        default=None, validation_alias="APPLICATIONINSIGHTS_CONNECTION_STRING", repr=False
    )
    """APPLICATIONINSIGHTS_CONNECTION_STRING: export to Azure Monitor / Application Insights
    (the Functions host sets it whenever Application Insights is on)."""
    reasoning: Flag = Field(default=True, validation_alias="PADDOCK_TRACE_REASONING")
    """PADDOCK_TRACE_REASONING: ``off`` keeps the model's reasoning text out of spans."""
    max_text: int = Field(default=DEFAULT_MAX_TEXT, ge=0, validation_alias="PADDOCK_TRACE_MAX_TEXT")
    """PADDOCK_TRACE_MAX_TEXT: cut longer texts to this many characters (0: no limit)."""
    personal_data: Flag = Field(default=True, validation_alias="PADDOCK_REDACT_PERSONAL")
    """PADDOCK_REDACT_PERSONAL: ``off`` leaves e-mail addresses and IBANs unmasked."""
    redact_patterns: Annotated[tuple[str, ...], BeforeValidator(_patterns)] = Field(
        default=(), validation_alias="PADDOCK_REDACT_PATTERNS"
    )
    """PADDOCK_REDACT_PATTERNS: one regular expression, or a JSON list of them, to mask too."""
    metrics: Annotated[MetricsMode | None, Lowered] = Field(
        default=None, validation_alias="PADDOCK_METRICS"
    )
    """PADDOCK_METRICS: ``off``, ``otel`` (to the OTLP / Azure Monitor / console exporters) or
    ``powertools`` (CloudWatch EMF on Lambda). Unset: ``otel`` when an exporter is set."""
    batch: OptionalFlag = Field(default=None, validation_alias="PADDOCK_TRACE_BATCH")
    """PADDOCK_TRACE_BATCH: export in the background, flushed at the end of every invocation.
    Unset: on in the clouds, off locally (the CLI batches)."""
    xray_ids: Flag = Field(default=False, validation_alias="PADDOCK_TRACE_XRAY_IDS")
    """PADDOCK_TRACE_XRAY_IDS: trace ids that start with the epoch second, as AWS X-Ray
    requires of ids it ingests through an OpenTelemetry collector's X-Ray exporter."""

    @field_validator("redact_patterns")
    @classmethod
    def _compiles(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {exc}") from None
        return patterns
