"""Response validation with precise JSON paths: what drift detection reads.

Each error reads ``<json path>: <what was expected>, got <what was seen>``, e.g.
``$.data.id: 'id' is a required property`` or ``$.items[0].qty: expected integer, got string
"7"``. The path names the offending field itself (for a missing or unexpected property too).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError, ValidationError, best_match
from referencing.exceptions import Unresolvable

MAX_ERRORS = 50
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SHORT = 60


def json_path(parts: Iterable[str | int]) -> str:
    """``$.a.b[0]['odd key']`` from path parts."""
    out = "$"
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _IDENT.match(part):
            out += "." + part
        else:
            out += "['" + part.replace("\\", "\\\\").replace("'", "\\'") + "']"
    return out


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= _SHORT else text[: _SHORT - 1] + "…"


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    names = {float: "number", str: "string", list: "array", dict: "object"}
    return next((n for t, n in names.items() if isinstance(value, t)), type(value).__name__)


def _extra_properties(error: ValidationError) -> list[str]:
    schema = error.schema if isinstance(error.schema, dict) else {}
    declared = set(schema.get("properties") or {})
    patterns = [re.compile(p) for p in schema.get("patternProperties") or {}]
    instance = error.instance if isinstance(error.instance, dict) else {}
    return [k for k in instance if k not in declared and not any(p.search(k) for p in patterns)]


def _describe(error: ValidationError) -> Iterator[str]:
    parts = list(error.absolute_path)
    where = json_path(parts)
    kind, seen = error.validator, error.instance
    expected: Any = error.validator_value
    if kind == "required" and isinstance(seen, dict):
        for name in expected:
            if name not in seen:
                yield f"{json_path([*parts, name])}: {name!r} is a required property"
    elif kind == "additionalProperties" and expected is False:
        for name in _extra_properties(error):
            yield (
                f"{json_path([*parts, name])}: unexpected property (additionalProperties is false)"
            )
    elif kind == "type":
        wanted = " or ".join(expected) if isinstance(expected, list) else expected
        yield f"{where}: expected {wanted}, got {_type_name(seen)} {_short(seen)}"
    elif kind == "enum":
        yield f"{where}: expected one of {_short(expected)}, got {_short(seen)}"
    elif kind == "const":
        yield f"{where}: expected {_short(expected)}, got {_short(seen)}"
    elif kind in ("anyOf", "oneOf") and error.context:
        closest = best_match(error.context)
        inner = next(_describe(closest), closest.message)
        yield f"{where}: matches none of the {kind} alternatives (closest: {inner})"
    else:
        yield f"{where}: {error.message}"


@lru_cache(maxsize=256)
def _validator(schema_text: str) -> Draft202012Validator:
    schema = json.loads(schema_text)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def validate_body(schema: dict[str, Any], body: Any) -> tuple[bool | None, list[str]]:
    """Validate ``body`` against a Draft 2020-12 schema.

    Returns ``(valid, errors)``; ``valid`` is ``None`` when the schema itself is unusable
    (the errors then say why).
    """
    try:
        validator = _validator(json.dumps(schema, sort_keys=True, default=str))
        raw = list(validator.iter_errors(body))
    except (SchemaError, Unresolvable) as exc:
        reason = exc.message if isinstance(exc, SchemaError) else str(exc)
        return None, [f"$: response schema cannot be used: {reason}"]
    messages = sorted({m for error in raw for m in _describe(error)})
    if len(messages) > MAX_ERRORS:
        dropped = len(messages) - MAX_ERRORS
        messages = [*messages[:MAX_ERRORS], f"$: and {dropped} more schema errors"]
    return not raw, messages
