"""OpenAPI Overlay 1.0: add to a vendor's spec what it does not say, without editing it.

An overlay is a document ``{overlay: 1.0.x, info, actions: [{target, update | remove}]}``.
Each action's ``target`` is a JSONPath; this module supports the subset overlays use in
practice: ``$``, member names (``.name`` or ``['name']``, which may hold ``/`` and ``{}``),
the wildcard ``*`` (``.*`` or ``[*]``). ``update`` is merged into every node the target
selects (objects merge recursively, arrays append, other values replace); ``remove: true``
deletes the selected nodes. The typical use is a security scheme the spec lacks, e.g. SP-API's
Login with Amazon exchange (``x-paddock-token-exchange``, docs/identity.md).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from core.errors import SpecError

_STEP = re.compile(
    r"\.([A-Za-z0-9_$@-]+|\*)|\[\s*(?:'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\"|(\*))\s*\]"
)


def parse_target(target: str) -> list[str]:
    """``$.paths['/a/{id}'].get`` -> ``["paths", "/a/{id}", "get"]`` (``*`` for wildcards)."""
    text = target.strip()
    if not text.startswith("$"):
        raise SpecError(f"overlay target {target!r} must start with $")
    steps: list[str] = []
    position = 1
    while position < len(text):
        match = _STEP.match(text, position)
        if match is None:
            raise SpecError(f"overlay target {target!r} is not supported at {text[position:]!r}")
        name = next(g for g in match.groups() if g is not None)
        steps.append(re.sub(r"\\(.)", r"\1", name))
        position = match.end()
    return steps


def _select(node: Any, steps: list[str]) -> Iterator[tuple[Any, Any]]:
    """(parent, key) of every node the steps reach (the root: ``(None, None)``)."""
    if not steps:
        yield None, None
        return
    head, rest = steps[0], steps[1:]
    keys: list[Any]
    if isinstance(node, dict):
        keys = list(node) if head == "*" else [head] if head in node else []
    elif isinstance(node, list):
        keys = list(range(len(node))) if head == "*" else [int(head)] if head.isdigit() else []
    else:
        keys = []
    for key in keys:
        if not rest:
            yield node, key
        else:
            yield from _select(node[key], rest)


def _merge(target: Any, update: Any) -> Any:
    if isinstance(target, dict) and isinstance(update, dict):
        merged = dict(target)
        for key, value in update.items():
            merged[key] = _merge(merged[key], value) if key in merged else copy.deepcopy(value)
        return merged
    if isinstance(target, list) and isinstance(update, list):
        return [*target, *copy.deepcopy(update)]
    return copy.deepcopy(update)


def apply_overlay(document: dict[str, Any], overlay: Any) -> dict[str, Any]:
    """A copy of ``document`` with the overlay's actions applied in order.

    Raises:
        SpecError: the overlay is not an Overlay 1.x document, or a target is unsupported.
    """
    if not isinstance(overlay, dict) or not str(overlay.get("overlay", "")).startswith("1."):
        raise SpecError("not an OpenAPI Overlay 1.x document (needs 'overlay: 1.0.0')")
    actions = overlay.get("actions")
    if not isinstance(actions, list):
        raise SpecError("overlay has no 'actions' list")
    result: dict[str, Any] = copy.deepcopy(document)
    for index, action in enumerate(actions):
        if not isinstance(action, dict) or not isinstance(action.get("target"), str):
            raise SpecError(f"overlay action {index} has no 'target'")
        steps = parse_target(action["target"])
        found = list(_select(result, steps))
        if action.get("remove") is True:
            for parent, key in reversed(found):
                if parent is not None:
                    del parent[key]
        elif "update" in action:
            for parent, key in found:
                if parent is None:
                    result = _merge(result, action["update"])
                else:
                    parent[key] = _merge(parent[key], action["update"])
    return result


def with_overlays(
    document: Mapping[str, Any], overlays: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """``document`` with each overlay applied in order."""
    result = dict(document)
    for overlay in overlays:
        result = apply_overlay(result, overlay)
    return result
