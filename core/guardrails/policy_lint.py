"""Static analysis of loaded policies, over Cedar's JSON policy format.

``check_attribute_paths`` catches what Cedar's validator leaves out: it types
``context.facts has credit`` as ``false`` when ``credit`` is not in the schema, so a rule
guarded by it validates and silently never fires (a dropped ``forbid``). Every ``has`` test and
attribute access on ``context``, ``resource`` or ``principal`` must name an attribute that
exists for at least one tool the rule applies to.

``context_needs`` lists, per tool, the parts of the context its rules read, so each request
carries only those: Cedar's cost grows with the size of the context it is handed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from core.errors import ConfigError
from core.guardrails.cedar_types import CType

RESOURCE_ATTRS = frozenset({"side_effect", "location", "trust"})


def check_attribute_paths(
    policies: Mapping[str, Any],
    names: Mapping[str, str],
    *,
    contexts: Mapping[str, CType],
    groups: Mapping[str, Sequence[str]],
    source: str,
) -> None:
    """Raise ``ConfigError`` naming each rule that tests an attribute nothing can have.

    Args:
        policies: ``staticPolicies`` of Cedar's JSON policy format.
        names: rule id by Cedar policy id.
        contexts: the context type of each tool's action.
        groups: tool names by action group (``call``, ``read``, ``write``, ``destructive``).
    """
    problems = []
    for pid, policy in policies.items():
        scope = _scope(policy.get("action") or {}, contexts, groups)
        for path in set(_paths(policy.get("conditions") or [])):
            if not _exists(path, scope, contexts):
                problems.append(
                    f"{names.get(pid, pid)}: {'.'.join(path)} is not an attribute "
                    "of any tool this rule applies to"
                )
    if problems:
        raise ConfigError(f"{source}: refusing to load: " + "; ".join(sorted(problems)))


Needs = dict[str, Any]
"""A projection of the context: attribute -> nested ``Needs``, or ``None`` for all of it."""


def context_needs(
    policies: Mapping[str, Any],
    *,
    contexts: Mapping[str, CType],
    groups: Mapping[str, Sequence[str]],
) -> dict[str, Needs | None]:
    """Per tool, the context parts read by the rules that can apply to it."""
    needs: dict[str, Needs | None] = {tool: {} for tool in contexts}
    for policy in policies.values():
        used = list(_used(policy.get("conditions") or []))
        for tool in _scope(policy.get("action") or {}, contexts, groups):
            for path in used:
                needs[tool] = _merge(needs[tool], path)
    return needs


def project(value: dict[str, Any], needs: Needs | None) -> dict[str, Any]:
    """``value`` cut down to what ``needs`` names."""
    if needs is None:
        return value
    out = {}
    for key, sub in needs.items():
        if key in value:
            item = value[key]
            out[key] = project(item, sub) if sub is not None and isinstance(item, dict) else item
    return out


def _merge(needs: Needs | None, path: tuple[str, ...]) -> Needs | None:
    if needs is None or not path:
        return None  # already all of it, or the whole value is read
    head, rest = path[0], path[1:]
    needs[head] = _merge(needs.get(head, {}), rest) if rest else None
    return needs


def _used(node: Any, *, as_left: bool = False) -> Iterator[tuple[str, ...]]:
    """Context paths whose values a condition reads (a bare ``context`` is the empty path)."""
    if isinstance(node, list):
        for item in node:
            yield from _used(item)
        return
    if not isinstance(node, dict):
        return
    if node.get("Var") == "context" and not as_left:
        yield ()
        return
    for key, value in node.items():
        if key in ("has", ".") and isinstance(value, dict):
            base = _base(value.get("left"))
            if base is not None and base[0] == "context" and not as_left:
                yield (*base[1:], str(value.get("attr")))
            yield from _used(value.get("left"), as_left=True)
            continue
        yield from _used(value)


def _scope(
    action: dict[str, Any], contexts: Mapping[str, CType], groups: Mapping[str, Sequence[str]]
) -> list[str]:
    if action.get("op") == "All":
        return list(contexts)
    named = action.get("entities") or [action.get("entity") or {}]
    tools: list[str] = []
    for entity in named:
        ident = str(entity.get("id"))
        tools.extend(groups.get(ident, [ident] if ident in contexts else []))
    return tools


def _paths(node: Any) -> Iterator[tuple[str, ...]]:
    """Every attribute path a ``has`` or ``.`` in the condition tests, e.g. context.facts.x."""
    if isinstance(node, list):
        for item in node:
            yield from _paths(item)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key in ("has", ".") and isinstance(value, dict):
            base = _base(value.get("left"))
            if base is not None:
                yield (*base, str(value.get("attr")))
        yield from _paths(value)


def _base(node: Any) -> tuple[str, ...] | None:
    if not isinstance(node, dict):
        return None
    if "Var" in node:
        var = node["Var"]
        return (var,) if var in ("context", "resource", "principal") else None
    inner = node.get(".")
    if isinstance(inner, dict):
        base = _base(inner.get("left"))
        return None if base is None else (*base, str(inner.get("attr")))
    return None


def _exists(path: tuple[str, ...], scope: Sequence[str], contexts: Mapping[str, CType]) -> bool:
    root, rest = path[0], path[1:]
    if root == "resource":
        return len(rest) == 1 and rest[0] in RESOURCE_ATTRS
    if root == "principal":
        return False
    return any(_has_path(contexts[tool], rest) for tool in scope if tool in contexts)


def _has_path(ctype: CType, path: tuple[str, ...]) -> bool:
    node = ctype
    for part in path:
        if node.kind != "Record" or part not in node.fields:
            return False
        node = node.fields[part][0]
    return True
