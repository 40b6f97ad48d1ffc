"""A small deterministic generator of values valid for a tool's argument schema.

Deterministic on purpose (the same arguments on every CI run). ``variant`` picks other
branches of ``anyOf``/``oneOf`` and other enum values, so a caller can retry when the first
choice is not valid, or exercise a second shape; ``full`` includes optional properties (to
the depth given), else only required ones.
"""

from __future__ import annotations

import math
from typing import Any

_FORMATS: dict[str, Any] = {
    "date-time": "2024-01-02T03:04:05Z",
    "dateTime": "2024-01-02T03:04:05Z",
    "date": "2024-01-02",
    "time": "03:04:05Z",
    "uuid": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "email": "buyer@example.com",
    "uri": "https://example.com/a",
    "url": "https://example.com/a",
    "hostname": "example.com",
    "ipv4": "192.0.2.1",
    "byte": "aGVsbG8=",
    "binary": "aGVsbG8=",
}
_PATTERN_CANDIDATES = ("UN1234", "1", "1.2", "US", "a@example.com", "x", "A1", "abc", "2024")


class Generator:
    """Values for one root schema (with its ``$defs``)."""

    def __init__(self, root: dict[str, Any], *, variant: int = 0, full: bool = True) -> None:
        self.defs: dict[str, Any] = root.get("$defs", {})
        self.variant = variant
        self.full = full
        self.max_depth = 4

    def value(self, schema: Any, depth: int = 0) -> Any:
        if schema is True or not isinstance(schema, dict):
            return "x"
        schema = self._resolve(schema)
        if "const" in schema:
            return schema["const"]
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            return self._enum(schema["enum"])
        if "allOf" in schema:
            return self.value(self._merge(schema), depth)
        for key in ("oneOf", "anyOf"):
            if isinstance(schema.get(key), list) and schema[key]:
                branches = schema[key]
                ordered = sorted(range(len(branches)), key=lambda i: _blank(branches[i]))
                choice = ordered[self.variant % len(ordered)]
                rest = {k: v for k, v in schema.items() if k != key}
                return self.value({**rest, **self._resolve(branches[choice])}, depth)
        return self._typed(schema, _type(schema), depth)

    def _typed(self, schema: dict[str, Any], kind: str | None, depth: int) -> Any:
        if kind == "object" or (kind is None and "properties" in schema):
            return self._object(schema, depth)
        if kind == "array":
            items = schema.get("items", {})
            count = max(1, int(schema.get("minItems", 1)))
            found = [self.value(items, depth + 1) for _ in range(count)]
            if schema.get("uniqueItems") and count > 1:
                found = [f"{v}{i}" if isinstance(v, str) else v for i, v in enumerate(found)]
            return found
        if kind == "integer":
            return int(self._number(schema, integer=True))
        if kind == "number":
            return self._number(schema, integer=False)
        if kind == "boolean":
            return self.variant % 2 == 0
        if kind == "null":
            return None
        return self._string(schema)

    def _object(self, schema: dict[str, Any], depth: int) -> dict[str, Any]:
        props: dict[str, Any] = schema.get("properties") or {}
        required = set(schema.get("required") or [])
        found: dict[str, Any] = {}
        for name, sub in props.items():
            if name in required or (self.full and depth < self.max_depth):
                if _read_only(self._resolve(sub) if isinstance(sub, dict) else sub):
                    continue
                found[name] = self.value(sub, depth + 1)
        if not found and props and depth < 2 * self.max_depth:
            # an empty object has no form in bracket notation: always carry one property
            name, sub = next((n, p) for n, p in props.items())
            found[name] = self.value(sub, depth + 1)
        extra = schema.get("additionalProperties")
        if not props and isinstance(extra, dict) and depth < 2 * self.max_depth:
            found["key_1"] = self.value(extra, depth + 1)
        minimum = int(schema.get("minProperties", 0))
        while len(found) < minimum and isinstance(extra, dict | bool) and extra is not False:
            found[f"key_{len(found) + 1}"] = "x"
        return found

    def _string(self, schema: dict[str, Any]) -> str:
        fmt = schema.get("format")
        if schema.get("contentEncoding") == "base64":
            return "aGVsbG8="
        if isinstance(fmt, str) and fmt in _FORMATS:
            return str(_FORMATS[fmt])
        low, high = int(schema.get("minLength", 0)), schema.get("maxLength")
        pattern = schema.get("pattern")
        if isinstance(pattern, str):
            import re

            for candidate in [*schema.get("examples", []), *_PATTERN_CANDIDATES]:
                if isinstance(candidate, str) and re.search(pattern, candidate):
                    return candidate
        text = "abc" if self.variant % 2 == 0 else "a b,c|d"
        text = text.ljust(max(low, 1), "x")
        return text[: int(high)] if isinstance(high, int) and high >= max(low, 1) else text

    def _number(self, schema: dict[str, Any], *, integer: bool) -> float:
        low = schema.get("minimum", schema.get("exclusiveMinimum"))
        high = schema.get("maximum", schema.get("exclusiveMaximum"))
        value: float = 1 if integer else 1.5
        if isinstance(low, int | float):
            value = max(value, low + (1 if "exclusiveMinimum" in schema else 0))
        if isinstance(high, int | float) and value > high:
            value = high - (1 if "exclusiveMaximum" in schema else 0)
        step = schema.get("multipleOf")
        if isinstance(step, int | float) and step > 0:
            value = math.ceil(value / step) * step
        return value

    def _enum(self, values: list[Any]) -> Any:
        usable = [v for v in values if v not in (None, "")] or values
        return usable[self.variant % len(usable)]

    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        seen = 0
        while isinstance(schema.get("$ref"), str) and seen < 20:
            name = schema["$ref"].rsplit("/", 1)[-1]
            target = self.defs.get(name, {})
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            schema = {**(target if isinstance(target, dict) else {}), **rest}
            seen += 1
        return schema

    def _merge(self, schema: dict[str, Any]) -> dict[str, Any]:
        merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
        props: dict[str, Any] = dict(merged.get("properties") or {})
        required: list[str] = list(merged.get("required") or [])
        for part in schema["allOf"]:
            part = self._resolve(part) if isinstance(part, dict) else {}
            if "allOf" in part:
                part = self._merge(part)
            props.update(part.get("properties") or {})
            required.extend(part.get("required") or [])
            for key, val in part.items():
                if key not in ("properties", "required"):
                    merged.setdefault(key, val)
        if props:
            merged["properties"] = props
            merged.setdefault("type", "object")
        if required:
            merged["required"] = sorted(set(required))
        return merged


def _type(schema: dict[str, Any]) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        return kinds[0] if kinds else "null"
    return kind if isinstance(kind, str) else None


def _blank(branch: Any) -> int:
    """Prefer branches that carry data over Stripe's ``enum: [""]`` "unset" branch."""
    return 1 if isinstance(branch, dict) and branch.get("enum") == [""] else 0


def _read_only(schema: Any) -> bool:
    return isinstance(schema, dict) and schema.get("readOnly") is True
