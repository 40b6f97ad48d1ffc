"""Tracing, redaction, exporters, metrics and cost accounting."""

from core.telemetry.exporters import JsonLinesExporter, read_spans, span_to_dict
from core.telemetry.redact import DEFAULT_REDACTOR, Redactor, install_log_redaction
from core.telemetry.tracing import RunTracer, attached, context_from, current_traceparent

__all__ = [
    "DEFAULT_REDACTOR",
    "JsonLinesExporter",
    "Redactor",
    "RunTracer",
    "attached",
    "context_from",
    "current_traceparent",
    "install_log_redaction",
    "read_spans",
    "span_to_dict",
]
