"""Diff two spec files or URLs through the catalog importer."""

from __future__ import annotations

from datetime import date
from typing import Any

from core.drift.changes import Change
from core.drift.spec_diff import diff_tools

_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def sunsets(document: dict[str, Any]) -> dict[str, str]:
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


def diff_specs(old: str, new: str, *, today: date | None = None) -> list[Change]:
    """Every change from the spec at ``old`` to the spec at ``new``."""
    from core.catalog import load_document, tools_from_document

    old_doc, old_raw = load_document(old)
    new_doc, new_raw = load_document(new)
    old_tools = tools_from_document(old_doc, source=old, raw=old_raw)
    new_tools = tools_from_document(new_doc, source=new, raw=new_raw)
    return diff_tools(old_tools, new_tools, sunsets=sunsets(old_doc), today=today)
