"""Drift at run time: a response that breaks its schema, or a backend error naming fields
the tool's schema does not know."""

from __future__ import annotations

import re
from typing import Any

from core.domain import HttpBinding, Tool
from core.execution.base import ExecutionResult

_FIELD_KEYS = ("loc", "field", "fields", "param", "parameter", "path", "property", "name")


def _schema_fields(schema: Any, out: set[str], depth: int = 0) -> None:
    if depth > 30 or not isinstance(schema, dict):
        return
    for name, sub in (schema.get("properties") or {}).items():
        out.add(str(name))
        _schema_fields(sub, out, depth + 1)
    for key in ("items", "additionalProperties"):
        _schema_fields(schema.get(key), out, depth + 1)
    for key in ("allOf", "anyOf", "oneOf"):
        for sub in schema.get(key) or []:
            _schema_fields(sub, out, depth + 1)
    for sub in (schema.get("$defs") or {}).values():
        _schema_fields(sub, out, depth + 1)


def known_fields(tool: Tool) -> set[str]:
    """The argument names of the tool's schema, and their names on the wire."""
    params = tool.binding.params if isinstance(tool.binding, HttpBinding) else ()
    fields: set[str] = {p.name for p in params} | {p.arg for p in params}
    _schema_fields(tool.args_schema, fields)
    return fields


def _named_in_error(body: Any, out: set[str], depth: int = 0) -> None:
    if depth > 10:
        return
    if isinstance(body, dict):
        for key, value in body.items():
            if key in _FIELD_KEYS:
                if isinstance(value, str):
                    out.update(p for p in re.split(r"[./\[\]]", value) if p)
                elif isinstance(value, list):
                    out.update(str(v) for v in value if isinstance(v, str))
            _named_in_error(value, out, depth + 1)
    elif isinstance(body, list):
        for item in body:
            _named_in_error(item, out, depth + 1)


_GENERIC = {"body", "query", "path", "header", "headers", "json", "data", "request", "$"}


def expected_and_seen(message: str) -> tuple[str, str | None]:
    """Split a validation message (``core.schema_errors``) into what the schema expected
    and what the response held (``None`` when the message does not say)."""
    if message.endswith("is a required property"):
        return "required property", "missing"
    if message.startswith("unexpected property"):
        return "no such property", "present"
    head, sep, tail = message.partition(", got ")
    if sep:
        return head.removeprefix("expected "), tail
    return message, None


def blocking(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The findings that trigger the tool's drift mode (notices only inform)."""
    return [f for f in findings if f.get("blocking", True)]


def deprecation_notices(tool: Tool, result: ExecutionResult) -> list[dict[str, Any]]:
    """``Sunset`` (RFC 8594) and ``Deprecation`` (RFC 9745) response headers: the backend
    announces the operation is going away. Recorded, never blocking."""
    notices: list[dict[str, Any]] = []
    for header in ("deprecation", "sunset"):
        value = result.headers.get(header)
        if not value:
            continue
        what = "is deprecated" if header == "deprecation" else "will be withdrawn"
        notices.append(
            {
                "kind": f"{header}_announced",
                "operation": tool.binding.operation,
                "tool": tool.name,
                "status": result.status_code,
                "field": header,
                "expected": None,
                "seen": value,
                "blocking": False,
                "error": f"the backend says {tool.binding.label} {what} "
                f"({header.capitalize()}: {value})",
            }
        )
    return notices


def response_drift(tool: Tool, result: ExecutionResult) -> list[dict[str, Any]]:
    """Findings with operation, field path, expected vs seen (empty: no drift), then any
    non-blocking deprecation notices."""
    findings: list[dict[str, Any]] = []
    if result.valid is False:
        for error in result.validation_errors:
            field, _, message = error.partition(": ")
            expected, seen = expected_and_seen(message or error)
            findings.append(
                {
                    "kind": "response_schema",
                    "operation": tool.binding.operation,
                    "tool": tool.name,
                    "status": result.status_code,
                    "field": field if message else "$",
                    "expected": expected,
                    "seen": seen,
                    "error": error,
                }
            )
    if result.status_code in (400, 422):
        named: set[str] = set()
        _named_in_error(result.body, named)
        unknown = sorted(n for n in named - known_fields(tool) - _GENERIC if not n.isdigit())
        for field in unknown:
            findings.append(
                {
                    "kind": "unknown_field_in_error",
                    "operation": tool.binding.operation,
                    "tool": tool.name,
                    "status": result.status_code,
                    "field": field,
                    "error": f"the backend's {result.status_code} names field "
                    f"{field!r}, which the tool's schema does not know",
                }
            )
    return findings + deprecation_notices(tool, result)
