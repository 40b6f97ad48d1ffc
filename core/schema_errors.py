"""jsonschema errors as short lines of text: ``<path>: expected <this>, got <that>``.

One vocabulary wherever a schema error is shown: tool arguments (the guardrails' findings and
the planner's feedback, read by the model), response bodies (read by drift detection, which
splits ``expected ..., got ...``), and the requests the example services refuse. Examples::

    $.data.id: 'id' is a required property
    args.body.quantity: expected integer, got string "500"
    args.body.iban: unexpected property; allowed: currency, part, plant, quantity
    $.status: expected one of ["open", "closed"], got "shipped"

Paths start at a root the caller names (``$``, ``args``, ``body``) and name the offending field
itself, for a missing or unexpected property too. A value matching no ``anyOf``/``oneOf``
alternative names the deepest error of the closest one. Lines are sorted by path (array indices
in numeric order), duplicates dropped, and cut to a bounded number.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from jsonschema.exceptions import ValidationError

MAX_PROBLEMS = 50
"""Default bound on the lines rendered for one instance (one more line counts the rest)."""

Path = tuple[str | int, ...]

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_VALUE_CHARS = 60
_MESSAGE_CHARS = 200
_NAMES_SHOWN = 12
_WEAK = frozenset({"anyOf", "oneOf"})
_BOUNDS = {
    "minimum": ">=",
    "maximum": "<=",
    "exclusiveMinimum": ">",
    "exclusiveMaximum": "<",
}


@dataclass(frozen=True)
class SchemaProblem:
    """One thing wrong with an instance: where (rendered from the root) and what."""

    path: Path
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def json_path(parts: Iterable[str | int], root: str = "$") -> str:
    """``$.a.b[0]['odd key']`` from path parts, starting at ``root``."""
    out = root
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _IDENT.match(part):
            out += "." + part
        else:
            out += "['" + part.replace("\\", "\\\\").replace("'", "\\'") + "']"
    return out


def schema_problems(
    errors: Iterable[ValidationError], *, root: str = "$", limit: int = MAX_PROBLEMS
) -> list[SchemaProblem]:
    """Every problem the errors describe, sorted by path and deduplicated.

    Past ``limit``, the first ``limit`` are kept and one more, at the root, says how many
    were left out.
    """
    found = {(path, text) for error in errors for path, text in _describe(error, root)}
    ordered = sorted(found, key=lambda item: (_path_key(item[0]), item[1]))
    problems = [SchemaProblem(path, json_path(path, root), text) for path, text in ordered]
    if len(problems) > limit:
        rest = len(problems) - limit
        problems = [*problems[:limit], SchemaProblem((), root, f"and {rest} more schema errors")]
    return problems


def render_errors(
    errors: Iterable[ValidationError], *, root: str = "$", limit: int = MAX_PROBLEMS
) -> list[str]:
    """``schema_problems`` as ``<path>: <message>`` lines."""
    return [str(problem) for problem in schema_problems(errors, root=root, limit=limit)]


def _path_key(path: Path) -> tuple[tuple[int, int, str], ...]:
    return tuple((0, part, "") if isinstance(part, int) else (1, 0, part) for part in path)


def _describe(error: ValidationError, root: str) -> Iterator[tuple[Path, str]]:
    """``(path, message)`` for one error; one per field for ``required`` and extra properties."""
    path: Path = tuple(error.absolute_path)
    kind, seen, expected = error.validator, error.instance, error.validator_value
    if kind == "required" and isinstance(seen, dict) and isinstance(expected, list):
        missing = [name for name in expected if isinstance(name, str) and name not in seen]
        for name in missing:
            yield (*path, name), f"{name!r} is a required property"
        if missing:
            return
    elif kind == "additionalProperties" and expected is False and isinstance(seen, dict):
        declared, extra = _declared_and_extra(error)
        for name in extra:
            yield (*path, name), f"unexpected property; allowed: {_names(declared)}"
        if extra:
            return
    elif kind in ("anyOf", "oneOf") and error.context:
        closest = _closest(error.context)
        inner_path, inner = next(_describe(closest, root), ((), closest.message))
        none = f"matches none of the {kind} alternatives"
        yield path, f"{none} (closest: {json_path(inner_path, root)}: {inner})"
        return
    yield path, _expected(str(kind), expected, seen) or _cut(error.message, _MESSAGE_CHARS)


def _closest(errors: list[ValidationError]) -> ValidationError:
    """The error of the alternative the instance came closest to: alternatives whose type does
    not even fit are passed over when another fits, and the deepest error wins (it is the most
    specific: jsonschema's ``best_match`` prefers the shallowest)."""
    fitting = [e for e in errors if e.validator != "type" or e.relative_path] or errors
    return max(fitting, key=lambda e: (len(e.absolute_path), e.validator not in _WEAK))


def _expected(kind: str, expected: Any, seen: Any) -> str | None:
    """``expected <this>, got <that>`` for the keywords that compare one value."""
    if kind == "type":
        wanted = " or ".join(expected) if isinstance(expected, list) else expected
        return f"expected {wanted}, got {_typed(seen)}"
    if kind == "enum" and isinstance(expected, list):
        options = expected[:_NAMES_SHOWN]
        more = ", ..." if len(expected) > _NAMES_SHOWN else ""
        shown = ", ".join(_value(option) for option in options)
        return f"expected one of [{shown}{more}], got {_value(seen)}"
    if kind == "const":
        return f"expected {_value(expected)}, got {_value(seen)}"
    if kind == "pattern":
        return f"expected a string matching the pattern '{expected}', got {_value(seen)}"
    if kind == "format":
        return f"expected a valid {expected}, got {_value(seen)}"
    if kind in _BOUNDS:
        return f"expected {_BOUNDS[kind]} {expected}, got {_value(seen)}"
    if kind == "multipleOf":
        return f"expected a multiple of {expected}, got {_value(seen)}"
    if kind in ("minLength", "maxLength") and isinstance(seen, str):
        bound = "at least" if kind == "minLength" else "at most"
        return f"expected {bound} {expected} characters, got {len(seen)}"
    if kind in ("minItems", "maxItems") and isinstance(seen, list):
        bound = "at least" if kind == "minItems" else "at most"
        return f"expected {bound} {expected} items, got {len(seen)}"
    return None


def _declared_and_extra(error: ValidationError) -> tuple[list[str], list[str]]:
    schema = error.schema if isinstance(error.schema, dict) else {}
    declared = sorted(str(name) for name in schema.get("properties") or {})
    patterns = [re.compile(p) for p in schema.get("patternProperties") or {}]
    instance = error.instance if isinstance(error.instance, dict) else {}
    extra = [
        str(name)
        for name in instance
        if name not in declared and not any(p.search(str(name)) for p in patterns)
    ]
    return declared, extra


def _names(names: list[str]) -> str:
    if not names:
        return "none"
    more = ", ..." if len(names) > _NAMES_SHOWN else ""
    return ", ".join(names[:_NAMES_SHOWN]) + more


def _typed(value: Any) -> str:
    """``string "7"``, ``integer 3``, ``null``: the JSON type, then the value."""
    kind = _type_name(value)
    return kind if value is None else f"{kind} {_value(value)}"


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    names = {float: "number", str: "string", list: "array", dict: "object"}
    return next((n for t, n in names.items() if isinstance(value, t)), type(value).__name__)


def _value(value: Any) -> str:
    """A value as JSON (the wire's language), cut to a readable length."""
    return _cut(json.dumps(value, ensure_ascii=False, default=str), _VALUE_CHARS)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
