"""Diff two versions of an API: operations, parameters, request bodies, responses."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from core.domain import HttpBinding, Param, ParamLocation, SideEffect, Tool
from core.drift.changes import Change, Level
from core.drift.schema_diff import RefPairs, diff_schema


def op_key(tool: Tool) -> str:
    """What matches a tool across versions: its binding's label (``GET /path``, ``MCP name``);
    the versioned catalog holds operations under this key."""
    return tool.binding.label


def op_label(tool: Tool) -> str:
    return f"{op_key(tool)} ({tool.binding.operation})"


def diff_tools(
    old: Sequence[Tool],
    new: Sequence[Tool],
    *,
    sunsets: dict[str, str] | None = None,
    today: date | None = None,
) -> list[Change]:
    """Every change from ``old`` to ``new``, matched by :func:`op_key` (method and path
    template for HTTP tools).

    ``sunsets`` maps ``METHOD /path`` to the old spec's ``x-sunset`` date: removing a
    deprecated operation after its sunset date is not breaking.
    """
    today = today or date.today()
    sunsets = sunsets or {}
    before = {op_key(t): t for t in old}
    after = {op_key(t): t for t in new}
    changes: list[Change] = []
    for key, tool in before.items():
        if key not in after:
            changes.append(_removed(tool, sunsets.get(key), today))
    for key, tool in after.items():
        if key not in before:
            changes.append(
                Change(
                    operation=op_label(tool),
                    location="operation",
                    kind="operation-added",
                    level=Level.INFO,
                    message=f"new operation {op_label(tool)}",
                )
            )
    for key in before.keys() & after.keys():
        changes.extend(diff_operation(before[key], after[key]))
    order = {Level.BREAKING: 0, Level.WARNING: 1, Level.INFO: 2}
    changes.sort(key=lambda c: (order[c.level], c.operation, c.location))
    return changes


def _removed(tool: Tool, sunset: str | None, today: date) -> Change:
    label = op_label(tool)
    if tool.deprecated and sunset:
        try:
            passed = date.fromisoformat(str(sunset)[:10]) <= today
        except ValueError:
            passed = False
        if passed:
            return Change(
                operation=label,
                location="operation",
                kind="operation-removed",
                level=Level.INFO,
                message=f"deprecated operation removed after its sunset {sunset}",
            )
        return Change(
            operation=label,
            location="operation",
            kind="operation-removed-before-sunset",
            level=Level.BREAKING,
            message=f"operation removed before its sunset date {sunset}",
        )
    return Change(
        operation=label,
        location="operation",
        kind="operation-removed",
        level=Level.BREAKING,
        message="operation removed" + ("" if tool.deprecated else " without deprecation"),
    )


def diff_operation(old: Tool, new: Tool) -> list[Change]:
    changes: list[Change] = []
    label = op_label(new)

    def emit_for(prefix: str, direction: str) -> Any:
        def emit(path: str, kind: str, level: Level, message: str, hint: str | None) -> None:
            where = f"{prefix} {path}" if path else prefix
            changes.append(
                Change(
                    operation=label,
                    location=where,
                    kind=f"{direction}-{kind}",
                    level=level,
                    message=message,
                    hint=hint,
                )
            )

        return emit

    changes.extend(_side_effects(old, new, label))
    _params(old, new, label, changes, emit_for)
    old_body = old.args_schema.get("properties", {}).get("body")
    new_body = new.args_schema.get("properties", {}).get("body")
    if old_body is None and new_body is not None and "body" in new.args_schema.get("required", []):
        changes.append(
            Change(
                operation=label,
                location="request body",
                kind="body-added",
                level=Level.BREAKING,
                message="a required request body added",
            )
        )
    diff_schema(
        old_body,
        new_body,
        path="$",
        direction="request",
        emit=emit_for("request body", "request"),
        refs=RefPairs(old.args_schema, new.args_schema),
    )
    for status, schema in old.responses.items():
        if status not in new.responses:
            level = Level.BREAKING if status.startswith("2") else Level.WARNING
            changes.append(
                Change(
                    operation=label,
                    location=f"response {status}",
                    kind="response-status-removed",
                    level=level,
                    message=f"response {status} removed",
                )
            )
            continue
        diff_schema(
            schema,
            new.responses[status],
            path="$",
            direction="response",
            emit=emit_for(f"response {status}", "response"),
        )
    for status in new.responses.keys() - old.responses.keys():
        changes.append(
            Change(
                operation=label,
                location=f"response {status}",
                kind="response-status-added",
                level=Level.INFO,
                message=f"response {status} added",
            )
        )
    return changes


_STRICTNESS = {SideEffect.READ: 0, SideEffect.WRITE: 1, SideEffect.DESTRUCTIVE: 2}


def _side_effects(old: Tool, new: Tool, label: str) -> list[Change]:
    """A looser side effect skips approvals that held the old one: breaking. So is a source
    that relabels a tool looser (an MCP server's hints), even while Paddock does not take it."""
    changes: list[Change] = []
    if old.side_effect is not new.side_effect:
        looser = _STRICTNESS[new.side_effect] < _STRICTNESS[old.side_effect]
        changes.append(
            Change(
                operation=label,
                location="side effect",
                kind="side-effect-loosened" if looser else "side-effect-tightened",
                level=Level.BREAKING if looser else Level.INFO,
                message=f"side effect {old.side_effect.value} -> {new.side_effect.value}",
            )
        )
    was, now = old.side_effect_hint, new.side_effect_hint
    if was is not None and now is not None and was is not now:
        looser = _STRICTNESS[now] < _STRICTNESS[was]
        beyond = _STRICTNESS[now] > _STRICTNESS[new.side_effect]
        changes.append(
            Change(
                operation=label,
                location="side effect hint",
                kind="side-effect-hint-loosened" if looser else "side-effect-hint-tightened",
                level=Level.BREAKING if looser else Level.WARNING if beyond else Level.INFO,
                message=f"the source now labels it {now.value} (was {was.value}); "
                f"Paddock treats it as {new.side_effect.value}",
                hint="a pin looser than the source's own label may be out of date"
                if beyond
                else None,
            )
        )
    return changes


def _params(old: Tool, new: Tool, label: str, changes: list[Change], emit_for: Any) -> None:
    def params(tool: Tool) -> dict[str, tuple[str, bool, dict[str, Any]]]:
        props = tool.args_schema.get("properties", {})
        return {
            f"{p.location.value}:{p.name}": (p.arg, p.required, props.get(p.arg, {}))
            for p in _wire_params(tool)
            if p.location is not ParamLocation.BODY
        }

    before, after = params(old), params(new)
    removed = [k for k in before if k not in after]
    added = [k for k in after if k not in before]
    for key in removed:
        hint = _param_rename(key, before, added, after)
        changes.append(
            Change(
                operation=label,
                location=f"parameter {key}",
                kind="parameter-removed",
                level=Level.BREAKING
                if old.args_schema.get("additionalProperties") is False and key.startswith("path")
                else Level.WARNING,
                message=f"parameter {key} removed",
                hint=hint,
            )
        )
    for key in added:
        required = after[key][1]
        hint = _param_rename(key, after, removed, before, added_side=True)
        changes.append(
            Change(
                operation=label,
                location=f"parameter {key}",
                kind="parameter-added-required" if required else "parameter-added",
                level=Level.BREAKING if required else Level.INFO,
                message=f"new {'required' if required else 'optional'} parameter {key}",
                hint=hint,
            )
        )
    for key in before.keys() & after.keys():
        _, was_required, old_schema = before[key]
        _, is_required, new_schema = after[key]
        if is_required and not was_required:
            changes.append(
                Change(
                    operation=label,
                    location=f"parameter {key}",
                    kind="parameter-became-required",
                    level=Level.BREAKING,
                    message=f"parameter {key} became required",
                )
            )
        diff_schema(
            old_schema,
            new_schema,
            path="",
            direction="request",
            emit=emit_for(f"parameter {key}", "request-parameter"),
            refs=RefPairs(old.args_schema, new.args_schema),
        )


def _wire_params(tool: Tool) -> tuple[Param, ...]:
    return tool.binding.params if isinstance(tool.binding, HttpBinding) else ()


def _param_rename(
    key: str,
    side: dict[str, Any],
    others: list[str],
    other_side: dict[str, Any],
    *,
    added_side: bool = False,
) -> str | None:
    loc = key.split(":", 1)[0]
    same = [
        o
        for o in others
        if o.split(":", 1)[0] == loc and other_side[o][2].get("type") == side[key][2].get("type")
    ]
    if len(same) != 1:
        return None
    old, new = (same[0], key) if added_side else (key, same[0])
    return f"may be a rename: {old} -> {new}"
