"""Diff two spec files or URLs (or two parsed documents) through the catalog importer."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from core.drift.changes import Change
from core.drift.spec_diff import diff_tools

_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def sunsets(document: Mapping[str, Any]) -> dict[str, str]:
    """``METHOD /path`` -> ``x-sunset`` of each operation that declares one."""
    found: dict[str, str] = {}
    for path, item in (document.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        for method in _METHODS:
            op = item.get(method)
            if isinstance(op, dict) and op.get("x-sunset"):
                found[f"{method.upper()} {path}"] = str(op["x-sunset"])
    return found


def diff_documents(
    old: Mapping[str, Any], new: Mapping[str, Any], *, today: date | None = None
) -> list[Change]:
    """Every change from one parsed spec document to another."""
    from core.catalog import tools_from_document

    return diff_tools(
        tools_from_document(old, source="old"),
        tools_from_document(new, source="new"),
        sunsets=sunsets(old),
        today=today,
    )


def diff_specs(old: str, new: str, *, today: date | None = None) -> list[Change]:
    """Every change from the spec at ``old`` to the spec at ``new`` (files or URLs).

    Raises:
        SpecError: either spec cannot be read or is not a Swagger / OpenAPI document.
    """
    from core.catalog import load_document

    old_doc, _ = load_document(old)
    new_doc, _ = load_document(new)
    return diff_documents(old_doc, new_doc, today=today)
