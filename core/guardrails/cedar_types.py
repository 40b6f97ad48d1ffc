"""Cedar types for tool arguments and context values, derived from JSON schemas.

Cedar has no floating point: JSON ``number`` becomes Cedar ``decimal`` (four decimal places,
compared with ``.greaterThan()`` and friends); ``integer`` becomes ``Long``. Values a policy
cannot type (free-form maps, mixed unions) are left out of the context rather than guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1
DECIMAL_MAX = Decimal("922337203685477.5807")
_QUANTUM = Decimal("0.0001")
_MAX_DEPTH = 8


@dataclass(frozen=True)
class CType:
    """A Cedar type: ``Long``, ``String``, ``Boolean``, ``decimal``, ``Set`` or ``Record``."""

    kind: str
    element: CType | None = None
    fields: dict[str, tuple[CType, bool]] = field(default_factory=dict)
    """For records: attribute name -> (type, required)."""

    def schema(self) -> dict[str, Any]:
        """This type in Cedar's JSON schema format."""
        if self.kind == "decimal":
            return {"type": "Extension", "name": "decimal"}
        if self.kind == "Set" and self.element is not None:
            return {"type": "Set", "element": self.element.schema()}
        if self.kind == "Record":
            attrs: dict[str, Any] = {}
            for name, (ctype, required) in self.fields.items():
                attrs[name] = {**ctype.schema(), "required": required}
            return {"type": "Record", "attributes": attrs}
        return {"type": self.kind}

    def encode(self, value: Any, where: str = "value") -> Any:
        """``value`` as Cedar JSON; raises ``ValueError`` when it does not fit the type."""
        if self.kind == "String" and isinstance(value, str):
            return value
        if self.kind == "Boolean" and isinstance(value, bool):
            return value
        if self.kind == "Long":
            return cedar_long(value, where)
        if self.kind == "decimal":
            return cedar_decimal(value, where)
        if self.kind == "Set" and isinstance(value, list) and self.element is not None:
            element = self.element
            return [element.encode(item, f"{where}[{i}]") for i, item in enumerate(value)]
        if self.kind == "Record" and isinstance(value, dict):
            return self._encode_record(value, where)
        raise ValueError(
            f"{where}: {type(value).__name__} value does not fit Cedar type {self.kind}"
        )

    def _encode_record(self, value: dict[str, Any], where: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, (ctype, required) in self.fields.items():
            item = value.get(name)
            if item is None:
                if required:
                    raise ValueError(f"{where}.{name}: missing")
                continue
            out[name] = ctype.encode(item, f"{where}.{name}")
        return out


LONG = CType("Long")
STRING = CType("String")
BOOLEAN = CType("Boolean")
DECIMAL = CType("decimal")
SCALARS = {"long": LONG, "string": STRING, "boolean": BOOLEAN, "decimal": DECIMAL}


def record(fields: dict[str, tuple[CType, bool]]) -> CType:
    return CType("Record", fields=fields)


def set_of(element: CType) -> CType:
    return CType("Set", element=element)


def cedar_long(value: Any, where: str = "value") -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{where}: expected an integer")
    if isinstance(value, float) and not value.is_integer():
        raise ValueError(f"{where}: expected an integer, got {value}")
    number = int(value)
    if not LONG_MIN <= number <= LONG_MAX:
        raise ValueError(f"{where}: {number} is outside the policy engine's 64-bit range")
    return number


def cedar_decimal(value: Any, where: str = "value") -> dict[str, Any]:
    """A Cedar ``decimal`` extension value, rounded half-even to four decimal places."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ValueError(f"{where}: expected a number")
    try:
        number = Decimal(str(value)).quantize(_QUANTUM, rounding=ROUND_HALF_EVEN)
    except InvalidOperation as exc:
        raise ValueError(f"{where}: {value} is not a finite number") from exc
    if abs(number) > DECIMAL_MAX:
        raise ValueError(f"{where}: {value} is outside the policy engine's decimal range")
    return {"__extn": {"fn": "decimal", "arg": f"{number:f}"}}


def from_json_schema(schema: Any, depth: int = 0) -> CType | None:
    """The Cedar type of values valid under ``schema``, or ``None`` when it has none."""
    if not isinstance(schema, dict) or depth > _MAX_DEPTH:
        return None
    kind = _json_type(schema)
    if kind in ("string", "integer", "number", "boolean"):
        return {"string": STRING, "integer": LONG, "number": DECIMAL, "boolean": BOOLEAN}[kind]
    if kind == "array":
        element = from_json_schema(schema.get("items"), depth + 1)
        return set_of(element) if element is not None else None
    if kind == "object":
        props = schema.get("properties")
        if not isinstance(props, dict):
            return None
        required = set(schema.get("required") or [])
        fields: dict[str, tuple[CType, bool]] = {}
        for name, sub in props.items():
            ctype = from_json_schema(sub, depth + 1)
            if ctype is not None:
                fields[name] = (ctype, name in required and not _nullable(sub))
        return record(fields)
    return None


def _json_type(schema: dict[str, Any]) -> str | None:
    declared = schema.get("type")
    if isinstance(declared, list):
        kinds = {k for k in declared if k != "null"}
        if kinds == {"integer", "number"}:
            return "number"
        declared = kinds.pop() if len(kinds) == 1 else None
    if isinstance(declared, str):
        return declared
    if "properties" in schema:
        return "object"
    values = schema.get("enum")
    if isinstance(values, list) and values and all(isinstance(v, str) for v in values):
        return "string"
    return None


def _nullable(schema: Any) -> bool:
    if not isinstance(schema, dict):
        return False
    declared = schema.get("type")
    return bool(schema.get("nullable")) or (isinstance(declared, list) and "null" in declared)
