"""Span exporters chosen by configuration: JSON lines (embedded default), console, OTLP."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from core.errors import ConfigError

_RESOURCE = frozenset({"service.name", "paddock.cloud", "cloud.provider"})
"""The resource attributes each JSON line repeats (the SDK's own are left out)."""


def span_to_dict(span: ReadableSpan) -> dict[str, Any]:
    ctx = span.get_span_context()
    parent = span.parent
    start = span.start_time or 0
    end = span.end_time or start
    return {
        "name": span.name,
        "trace_id": f"{ctx.trace_id:032x}" if ctx else None,
        "span_id": f"{ctx.span_id:016x}" if ctx else None,
        "parent_id": f"{parent.span_id:016x}" if parent else None,
        "start_ns": start,
        "end_ns": end,
        "duration_ms": round((end - start) / 1e6, 3),
        "status": span.status.status_code.name,
        "attributes": dict(span.attributes or {}),
        "events": [{"name": e.name, "attributes": dict(e.attributes or {})} for e in span.events],
        "resource": (
            {k: v for k, v in span.resource.attributes.items() if k in _RESOURCE}
            if span.resource
            else {}
        ),
    }


class JsonLinesExporter(SpanExporter):
    """Appends one JSON object per span to a file; ``paddock trace`` reads it back."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._file: TextIO | None = None

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        text = "".join(
            json.dumps(span_to_dict(s), ensure_ascii=False, default=str) + "\n" for s in spans
        )
        with self._lock:
            if self._file is None:
                # Kept open in append mode: every export is one write at the end of the file.
                self._file = self.path.open("a", encoding="utf-8")
            self._file.write(text)
            self._file.flush()
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def read_spans(path: str | Path, *, trace_id: str | None = None) -> list[dict[str, Any]]:
    """Spans from a JSON-lines file, optionally of one trace only."""
    spans: list[dict[str, Any]] = []
    file = Path(path)
    if not file.exists():
        return spans
    with file.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            line = line.strip()
            if not line:
                continue
            try:
                span = json.loads(line)
            except ValueError as exc:
                raise ConfigError(f"{file}:{number}: not a span (JSON lines expected)") from exc
            if not isinstance(span, dict) or "span_id" not in span:
                raise ConfigError(f"{file}:{number}: not a span (JSON lines expected)")
            if trace_id is None or span.get("trace_id") == trace_id:
                spans.append(span)
    return spans
