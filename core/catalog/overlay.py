"""OpenAPI Overlay 1.0: ordered actions that update or remove the nodes a JSONPath selects.

An operator labels a vendor's spec (``x-paddock-cloud``, ``servers``, security schemes...)
without editing the vendor's file. An action whose target selects nothing is an error: an
overlay that silently stops applying after the vendor renames a path is exactly the drift
Paddock exists to catch.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jsonpath
from jsonpath.exceptions import JSONPathError

from core.errors import SpecError


@dataclass(frozen=True)
class OverlayProblem:
    """What is wrong with one action (``index``: its position in ``actions``, 0-based)."""

    index: int | None
    message: str


def overlay_problems(overlay: Any) -> list[OverlayProblem]:
    """Everything structurally wrong with an overlay document (empty when it is valid)."""
    if not isinstance(overlay, Mapping):
        return [OverlayProblem(None, "an overlay is a mapping with 'overlay', 'info', 'actions'")]
    problems: list[OverlayProblem] = []
    version = str(overlay.get("overlay", ""))
    if not version.startswith("1."):
        problems.append(OverlayProblem(None, f"'overlay' must be 1.x (got {version or 'none'})"))
    actions = overlay.get("actions")
    if not isinstance(actions, list) or not actions:
        problems.append(OverlayProblem(None, "'actions' must be a non-empty list"))
        return problems
    for i, action in enumerate(actions):
        problems.extend(OverlayProblem(i, m) for m in _action_problems(action))
    return problems


def _action_problems(action: Any) -> list[str]:
    if not isinstance(action, Mapping):
        return ["an action is a mapping with 'target' and 'update' or 'remove'"]
    target = action.get("target")
    if not isinstance(target, str) or not target.strip():
        return ["'target' must be a JSONPath expression"]
    try:
        jsonpath.compile(target)
    except JSONPathError as exc:
        return [f"target {target!r} is not valid JSONPath: {str(exc).splitlines()[0]}"]
    remove = action.get("remove", False)
    if not isinstance(remove, bool):
        return ["'remove' must be true or false"]
    if not remove and "update" not in action:
        return ["an action needs 'update' or 'remove: true'"]
    return []


def apply_overlay(document: Mapping[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """``document`` with every action of ``overlay`` applied in order (a new object).

    Raises:
        SpecError: the overlay is malformed, or an action's target selects nothing (the
            message names the action by position and target).
    """
    problems = overlay_problems(overlay)
    if problems:
        first = problems[0]
        where = f"action {first.index + 1}: " if first.index is not None else ""
        raise SpecError(f"{where}{first.message}")
    result = copy.deepcopy(dict(document))
    for i, action in enumerate(overlay["actions"]):
        _apply(result, action, i)
    return result


def _apply(document: dict[str, Any], action: Mapping[str, Any], index: int) -> None:
    target = str(action["target"])
    matches = list(jsonpath.finditer(target, document))
    if not matches:
        raise SpecError(f"action {index + 1}: target {target!r} matches nothing in the spec")
    if action.get("remove", False):
        # Remove deepest and last first so earlier list indices stay valid.
        for match in sorted(matches, key=lambda m: _sort_key(m.parts), reverse=True):
            _remove(match.parent.obj if match.parent else None, match.parts, target, index)
        return
    update = action["update"]
    for match in matches:
        node = match.obj
        if isinstance(node, dict) and isinstance(update, Mapping):
            _merge(node, update)
        elif isinstance(node, list):
            node.extend(copy.deepcopy(update) if isinstance(update, list) else [update])
        else:
            raise SpecError(
                f"action {index + 1}: target {target!r} selects a {type(node).__name__}; "
                "an update applies to objects and arrays"
            )


def _sort_key(parts: Sequence[Any]) -> tuple[int, tuple[str, ...]]:
    return len(parts), tuple(f"{p:020d}" if isinstance(p, int) else str(p) for p in parts)


def _remove(parent: Any, parts: Sequence[Any], target: str, index: int) -> None:
    if not parts or parent is None:
        raise SpecError(f"action {index + 1}: target {target!r} would remove the whole document")
    key = parts[-1]
    present = (isinstance(parent, dict) and key in parent) or (
        isinstance(parent, list) and isinstance(key, int) and 0 <= key < len(parent)
    )
    if present:
        del parent[key]


def _merge(target: dict[str, Any], update: Mapping[str, Any]) -> None:
    """Objects merge recursively; any other value replaces the target's."""
    for key, value in update.items():
        current = target.get(key)
        if isinstance(current, dict) and isinstance(value, Mapping):
            _merge(current, value)
        else:
            target[key] = copy.deepcopy(value)
