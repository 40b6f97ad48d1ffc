"""``policy.yaml``: the declarative part next to the ``.cedar`` files.

It names the *facts* a rule may read from earlier trusted results, how to compute a call's
*amount* in EUR, and the defaults the policy set keeps or relaxes::

    destructive_requires_approval: true
    facts:
      supplier_risk:            # -> context.facts.supplier_risk
        from_tool: get_risk_score
        key: [supplier_id, vendor_id]  # the subject: the first of these fields in the call's
                                       # arguments; an earlier call matches when its arguments
                                       # or result carry the same value under one of them
        value: score            # the result field to read
        type: decimal           # decimal | long | string | boolean
    amounts:
      create_purchase_order:    # -> context.amount_eur (whole euros, rounded up)
        quantity: body.quantity
        unit_price: body.unit_price
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from core.domain import Tool, Trust
from core.errors import ConfigError
from core.guardrails.cedar_types import SCALARS

_TOP_KEYS = {"version", "destructive_requires_approval", "facts", "amounts"}
_FACT_KEYS = {"from_tool", "key", "value", "type", "description"}
_AMOUNT_FORMS = ({"total"}, {"quantity", "unit_price"})


@dataclass(frozen=True)
class FactSpec:
    """A value read from the latest trusted result of ``from_tool`` about the same subject."""

    name: str
    from_tool: str
    value: tuple[str, ...]
    type: str
    keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class AmountSpec:
    """How to compute one tool's amount in EUR: ``total``, or ``quantity`` x ``unit_price``."""

    tool: str
    total: tuple[str, ...] | None = None
    quantity: tuple[str, ...] | None = None
    unit_price: tuple[str, ...] | None = None


@dataclass(frozen=True)
class PolicyConfig:
    destructive_requires_approval: bool = True
    facts: tuple[FactSpec, ...] = ()
    amounts: Mapping[str, AmountSpec] | None = None


def parse_config(data: Any, tools: Sequence[Tool], *, source: str) -> PolicyConfig:
    """Check ``policy.yaml`` against the catalog; raises ``ConfigError`` on any mistake."""
    if data is None:
        return PolicyConfig(amounts={})
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping at the top level")
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise ConfigError(
            f"{source}: unknown key(s) {sorted(unknown)}; allowed: {sorted(_TOP_KEYS)}"
        )
    by_name = {t.name: t for t in tools}
    facts = tuple(
        _fact(name, spec, by_name, source) for name, spec in _mapping(data, "facts", source).items()
    )
    amounts = {
        name: _amount(name, spec, by_name, source)
        for name, spec in _mapping(data, "amounts", source).items()
    }
    strict = data.get("destructive_requires_approval", True)
    if not isinstance(strict, bool):
        raise ConfigError(f"{source}: destructive_requires_approval must be true or false")
    return PolicyConfig(destructive_requires_approval=strict, facts=facts, amounts=amounts)


def _mapping(data: dict[str, Any], key: str, source: str) -> dict[str, Any]:
    value = data.get(key) or {}
    if not isinstance(value, dict):
        raise ConfigError(f"{source}: {key} must be a mapping")
    return value


def _fact(name: str, spec: Any, tools: dict[str, Tool], source: str) -> FactSpec:
    where = f"{source}: facts.{name}"
    if not isinstance(spec, dict) or set(spec) - _FACT_KEYS:
        raise ConfigError(f"{where}: expected keys among {sorted(_FACT_KEYS)}")
    tool = tools.get(str(spec.get("from_tool")))
    if tool is None:
        raise ConfigError(f"{where}: from_tool {spec.get('from_tool')!r} is not in the catalog")
    if tool.trust is Trust.UNTRUSTED:
        # A fact from untrusted text would let injected content steer the policy.
        raise ConfigError(f"{where}: {tool.name} returns untrusted text and cannot feed facts")
    kind = spec.get("type")
    if kind not in SCALARS:
        raise ConfigError(f"{where}: type must be one of {sorted(SCALARS)}")
    value = spec.get("value")
    key = spec.get("key")
    keys = [key] if isinstance(key, str) else key if key is not None else []
    if (
        not isinstance(value, str)
        or not value
        or not isinstance(keys, list)
        or not all(isinstance(k, str) and k for k in keys)
    ):
        raise ConfigError(f"{where}: value (and key, when given) must be field names")
    return FactSpec(
        name=name, from_tool=tool.name, value=tuple(value.split(".")), type=kind, keys=tuple(keys)
    )


def _amount(name: str, spec: Any, tools: dict[str, Tool], source: str) -> AmountSpec:
    where = f"{source}: amounts.{name}"
    tool = tools.get(name)
    if tool is None:
        raise ConfigError(f"{where}: {name!r} is not a tool in the catalog")
    if not isinstance(spec, dict) or set(spec) not in _AMOUNT_FORMS:
        raise ConfigError(f"{where}: give either total, or quantity and unit_price")
    paths: dict[str, tuple[str, ...]] = {}
    for field_name, path in spec.items():
        if not isinstance(path, str) or not path:
            raise ConfigError(f"{where}.{field_name}: expected an argument path like body.x")
        parts = tuple(path.split("."))
        _require_number(tool.args_schema, parts, f"{where}.{field_name}")
        paths[field_name] = parts
    return AmountSpec(tool=name, **paths)


def _require_number(schema: Any, path: tuple[str, ...], where: str) -> None:
    """The path must name a required numeric argument, so the amount is never missing."""
    node = schema
    for part in path:
        props = node.get("properties") if isinstance(node, dict) else None
        if not isinstance(props, dict) or part not in props:
            raise ConfigError(f"{where}: {'.'.join(path)} is not an argument of the tool")
        if part not in (node.get("required") or []):
            raise ConfigError(f"{where}: {'.'.join(path)} must be a required argument")
        node = props[part]
    kind = node.get("type") if isinstance(node, dict) else None
    kinds = set(kind) if isinstance(kind, list) else {kind}
    if not kinds or not kinds <= {"integer", "number"}:
        raise ConfigError(f"{where}: {'.'.join(path)} must be a number")
