"""Tracing, redaction and exporters."""

from core.telemetry.exporters import JsonLinesExporter, read_spans, span_to_dict
from core.telemetry.redact import DEFAULT_REDACTOR, Redactor
from core.telemetry.tracing import RunTracer, context_from, current_traceparent

__all__ = [
    "DEFAULT_REDACTOR",
    "JsonLinesExporter",
    "Redactor",
    "RunTracer",
    "context_from",
    "current_traceparent",
    "read_spans",
    "span_to_dict",
]
