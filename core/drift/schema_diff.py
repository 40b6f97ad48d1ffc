"""Compare two JSON Schemas in the direction data flows.

In a *request* the client writes and the server validates: anything the new schema rejects
that the old one accepted breaks clients. In a *response* the server writes and the client
reads: anything the client could rely on that may now be missing or different breaks it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.drift.changes import Level

Emit = Callable[[str, str, Level, str, str | None], None]
"""(path, kind, level, message, hint)."""

_NUMERIC_MIN = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
_NUMERIC_MAX = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")


def types_of(schema: dict[str, Any]) -> set[str]:
    raw = schema.get("type")
    if raw is None:
        return set()
    kinds = {raw} if isinstance(raw, str) else set(raw)
    if schema.get("nullable") is True:
        kinds.add("null")
    if "integer" in kinds and "number" in kinds:
        kinds.discard("integer")
    return kinds


@dataclass
class RefPairs:
    """Resolves local ``#/$defs/...`` references (the importer keeps recursive schemas there)
    and remembers which pairs of definitions were compared, so cycles end."""

    old_root: dict[str, Any]
    new_root: dict[str, Any]
    seen: set[tuple[str, str]] = field(default_factory=set)

    def resolve(
        self, old: dict[str, Any], new: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """Both sides with their ``$ref`` followed; ``None`` when this pair was compared."""
        o_ref, n_ref = old.get("$ref"), new.get("$ref")
        if not isinstance(o_ref, str) and not isinstance(n_ref, str):
            return old, new
        key = (str(o_ref), str(n_ref))
        if key in self.seen:
            return None
        self.seen.add(key)
        return _follow(old, self.old_root), _follow(new, self.new_root)


def _follow(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    for _ in range(20):  # a chain of plain aliases, never a cycle of them
        ref = schema.get("$ref")
        if not isinstance(ref, str) or not ref.startswith("#/$defs/"):
            return schema
        target = (root.get("$defs") or {}).get(ref[len("#/$defs/") :])
        if not isinstance(target, dict):
            return schema
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def diff_schema(
    old: dict[str, Any] | None,
    new: dict[str, Any] | None,
    *,
    path: str,
    direction: str,
    emit: Emit,
    depth: int = 0,
    refs: RefPairs | None = None,
) -> None:
    """Emit every change between ``old`` and ``new`` below ``path``.

    ``$ref``s into ``$defs`` are followed: the top-level schemas are the roots they resolve
    against unless ``refs`` says otherwise.
    """
    if depth > 40 or old is None or new is None or old == new:
        return
    if refs is None:
        refs = RefPairs(old, new)
    pair = refs.resolve(old, new)
    if pair is None:
        return
    old, new = pair
    if old == new:
        return
    request = direction == "request"
    _types(old, new, path, request, emit)
    _enum(old, new, path, request, emit)
    _bounds(old, new, path, request, emit)
    _pattern(old, new, path, request, emit)
    _properties(old, new, path, direction, emit, depth, refs)
    if isinstance(old.get("items"), dict) and isinstance(new.get("items"), dict):
        diff_schema(
            old["items"],
            new["items"],
            path=f"{path}[]",
            direction=direction,
            emit=emit,
            depth=depth + 1,
            refs=refs,
        )
    for key in ("allOf", "anyOf", "oneOf"):
        o, n = old.get(key), new.get(key)
        if isinstance(o, list) and isinstance(n, list) and len(o) == len(n):
            for a, b in zip(o, n, strict=True):
                if isinstance(a, dict) and isinstance(b, dict):
                    diff_schema(
                        a, b, path=path, direction=direction, emit=emit, depth=depth + 1, refs=refs
                    )


def _types(old: dict[str, Any], new: dict[str, Any], path: str, request: bool, emit: Emit) -> None:
    before, after = types_of(old), types_of(new)
    if not before or not after or before == after:
        return
    widened = before < after or (before == {"integer"} and "number" in after)
    narrowed = after < before
    if (request and widened) or (not request and narrowed):
        emit(
            path,
            "type-widened" if request else "type-narrowed",
            Level.INFO,
            f"type changed from {_t(before)} to {_t(after)} (compatible)",
            None,
        )
        return
    emit(
        path, "type-changed", Level.BREAKING, f"type changed from {_t(before)} to {_t(after)}", None
    )


def _enum(old: dict[str, Any], new: dict[str, Any], path: str, request: bool, emit: Emit) -> None:
    o, n = old.get("enum"), new.get("enum")
    if not isinstance(o, list) and isinstance(n, list):
        emit(
            path,
            "enum-added",
            Level.BREAKING if request else Level.INFO,
            f"values restricted to {n}",
            None,
        )
        return
    if not isinstance(o, list) or not isinstance(n, list):
        return
    removed = [v for v in o if v not in n]
    added = [v for v in n if v not in o]
    for value in removed:
        emit(
            path,
            "enum-value-removed",
            Level.BREAKING if request else Level.INFO,
            f"enum value {value!r} removed",
            None,
        )
    for value in added:
        emit(
            path,
            "enum-value-added",
            Level.INFO if request else Level.WARNING,
            f"enum value {value!r} added" + ("" if request else ": clients may not handle it"),
            None,
        )


def _bounds(old: dict[str, Any], new: dict[str, Any], path: str, request: bool, emit: Emit) -> None:
    for key in (*_NUMERIC_MIN, *_NUMERIC_MAX):
        o, n = old.get(key), new.get(key)
        if o == n or isinstance(o, bool) or isinstance(n, bool):
            continue
        lower = key in _NUMERIC_MIN
        if o is None:
            tightened = True
        elif n is None:
            tightened = False
        else:
            tightened = n > o if lower else n < o
        kind = "constraint-tightened" if tightened else "constraint-loosened"
        level = Level.BREAKING if tightened == request else Level.INFO
        emit(path, kind, level, f"{key} changed from {o} to {n}", None)


def _pattern(
    old: dict[str, Any], new: dict[str, Any], path: str, request: bool, emit: Emit
) -> None:
    o, n = old.get("pattern"), new.get("pattern")
    if o == n:
        return
    if n is None:
        emit(
            path,
            "constraint-loosened",
            Level.INFO if request else Level.WARNING,
            f"pattern {o!r} removed",
            None,
        )
        return
    emit(
        path,
        "pattern-changed",
        Level.BREAKING if request else Level.INFO,
        f"pattern changed from {o!r} to {n!r}",
        None,
    )


def _properties(
    old: dict[str, Any],
    new: dict[str, Any],
    path: str,
    direction: str,
    emit: Emit,
    depth: int,
    refs: RefPairs,
) -> None:
    request = direction == "request"
    op = old.get("properties") or {}
    np_ = new.get("properties") or {}
    oreq = set(old.get("required") or [])
    nreq = set(new.get("required") or [])
    removed = [k for k in op if k not in np_]
    added = [k for k in np_ if k not in op]
    for name in removed:
        hint = _rename_hint(name, op[name], added, np_)
        where = f"{path}.{name}"
        if request:
            closed = new.get("additionalProperties") is False
            emit(
                where,
                "property-removed",
                Level.BREAKING if closed else Level.WARNING,
                f"request property {name!r} removed"
                + (" and unknown properties are rejected" if closed else ""),
                hint,
            )
        else:
            level = Level.BREAKING if name in oreq else Level.WARNING
            emit(
                where,
                "property-removed",
                level,
                f"{'required' if name in oreq else 'optional'} response property {name!r} removed",
                hint,
            )
    for name in added:
        hint = _rename_hint(name, np_[name], removed, op, added_side=True)
        where = f"{path}.{name}"
        if request and name in nreq:
            emit(
                where,
                "required-property-added",
                Level.BREAKING,
                f"new required request property {name!r}",
                hint,
            )
        else:
            emit(
                where,
                "property-added",
                Level.INFO,
                f"new {'required' if name in nreq else 'optional'} {direction} property {name!r}",
                hint,
            )
    for name in op:
        if name not in np_:
            continue
        where = f"{path}.{name}"
        if request and name in nreq and name not in oreq:
            emit(
                where,
                "property-became-required",
                Level.BREAKING,
                f"request property {name!r} became required",
                None,
            )
        if not request and name in oreq and name not in nreq:
            emit(
                where,
                "property-became-optional",
                Level.BREAKING,
                f"response property {name!r} became optional",
                None,
            )
        if isinstance(op[name], dict) and isinstance(np_[name], dict):
            diff_schema(
                op[name],
                np_[name],
                path=where,
                direction=direction,
                emit=emit,
                depth=depth + 1,
                refs=refs,
            )


def _rename_hint(
    name: str,
    schema: Any,
    others: list[str],
    other_props: dict[str, Any],
    *,
    added_side: bool = False,
) -> str | None:
    """A removed and an added property of the same shape are probably one rename."""
    same = [o for o in others if _shape(other_props.get(o)) == _shape(schema)]
    if len(same) != 1:
        return None
    old, new = (same[0], name) if added_side else (name, same[0])
    return f"may be a rename: {old!r} -> {new!r}"


def _shape(schema: Any) -> Any:
    if not isinstance(schema, dict):
        return None
    return (tuple(sorted(types_of(schema))), schema.get("format"))


def _t(kinds: set[str]) -> str:
    return "|".join(sorted(kinds))
