"""The Cedar request context of one call: typed arguments, the run so far, amounts, facts.

``context_type`` (the schema policies are validated against) and ``build_context`` (the value
each request carries) live side by side so they cannot drift apart.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

from core.domain import CallRecord, CallStatus, Run, SideEffect, Tool
from core.guardrails.cedar_types import (
    DECIMAL,
    LONG,
    SCALARS,
    STRING,
    CType,
    cedar_decimal,
    record,
)
from core.guardrails.policy_config import AmountSpec, FactSpec, PolicyConfig

_COUNTED = (CallStatus.APPROVED, CallStatus.EXECUTING, CallStatus.DONE)
_WRITES = (SideEffect.WRITE.value, SideEffect.DESTRUCTIVE.value)


def run_type(tool_names: Sequence[str]) -> CType:
    """``context.run``: who runs, and what the run has done so far."""
    per_tool = record(dict.fromkeys(tool_names, (LONG, True)))
    return record(
        {
            "tenant": (STRING, True),
            "requested_by": (STRING, True),
            "goal": (STRING, True),
            "scenario": (STRING, True),
            "steps_so_far": (LONG, True),
            "calls_so_far": (LONG, True),
            "writes_so_far": (LONG, True),
            "destructive_so_far": (LONG, True),
            "amount_so_far_eur": (LONG, True),
            "calls_by_tool": (per_tool, True),
        }
    )


def context_type(
    args: CType, config: PolicyConfig, tool_names: Sequence[str], labels: CType | None = None
) -> CType:
    """The context record of one tool's action (``labels``: see ``core.guardrails.labels``)."""
    facts = record({f.name: (SCALARS[f.type], False) for f in config.facts})
    return record(
        {
            "args": (args, True),
            "labels": (labels or record({}), True),
            "run": (run_type(tool_names), True),
            "amount_eur": (LONG, True),
            "facts": (facts, True),
            "confidence": (DECIMAL, False),
        }
    )


def build_context(
    run: Run,
    tool: Tool,
    args: dict[str, Any],
    *,
    args_type: CType,
    config: PolicyConfig,
    tool_names: Sequence[str],
    confidence: float | None,
    labels: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The context value; raises ``ValueError`` when a value does not fit its Cedar type."""
    amounts = config.amounts or {}
    context: dict[str, Any] = {
        "args": args_type.encode(args, "args"),
        "labels": labels or {},
        "run": _run_value(run, amounts, tool_names),
        "amount_eur": call_amount(amounts.get(tool.name), args),
        "facts": _facts(run, args, config.facts),
    }
    if confidence is not None:
        context["confidence"] = cedar_decimal(confidence, "confidence")
    return context


def counted_calls(run: Run) -> Iterator[CallRecord]:
    """Calls that ran or were allowed to run: what "so far" counts (not denied or rejected)."""
    for step in run.steps:
        for call in step.calls:
            if call.executed or call.status in _COUNTED:
                yield call


def _run_value(
    run: Run, amounts: Mapping[str, AmountSpec], tool_names: Sequence[str]
) -> dict[str, Any]:
    by_tool = dict.fromkeys(tool_names, 0)
    writes = destructive = spent = 0
    for call in counted_calls(run):
        if call.tool in by_tool:
            by_tool[call.tool] += 1
        if call.side_effect in _WRITES:
            writes += 1
            destructive += call.side_effect == SideEffect.DESTRUCTIVE.value
            spent += call_amount(amounts.get(call.tool), call.args)
    return {
        "tenant": run.tenant,
        "requested_by": run.requested_by or "",
        "goal": run.goal,
        "scenario": run.scenario or "",
        "steps_so_far": len(run.steps),
        "calls_so_far": run.tool_calls,
        "writes_so_far": writes,
        "destructive_so_far": destructive,
        "amount_so_far_eur": spent,
        "calls_by_tool": by_tool,
    }


def call_amount(spec: AmountSpec | None, args: dict[str, Any]) -> int:
    """The call's amount in whole EUR, rounded up (so thresholds err on the safe side)."""
    if spec is None:
        return 0
    if spec.total is not None:
        total = _number(dig(args, spec.total))
    else:
        total = _number(dig(args, spec.quantity or ())) * _number(dig(args, spec.unit_price or ()))
    return math.ceil(total)


def _number(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return Decimal(0)
    return Decimal(str(value))


def dig(value: Any, path: Sequence[str]) -> Any:
    """``value[path[0]][path[1]]...``, or ``None`` when any step is missing."""
    for part in path:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def find_key(value: Any, key: str) -> Any:
    """The first value named ``key``, breadth first (``supplier_id`` or ``body.supplier_id``)."""
    if "." in key:
        return dig(value, key.split("."))
    queue = [value]
    while queue:
        node = queue.pop(0)
        if isinstance(node, dict):
            if key in node and not isinstance(node[key], dict | list):
                return node[key]
            queue.extend(v for v in node.values() if isinstance(v, dict))
    return None


def _facts(run: Run, args: dict[str, Any], specs: Sequence[FactSpec]) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    for spec in specs:
        value = resolve_fact(run, args, spec)
        if value is not None:
            facts[spec.name] = SCALARS[spec.type].encode(value, f"facts.{spec.name}")
    return facts


def resolve_fact(run: Run, args: dict[str, Any], spec: FactSpec) -> Any:
    """The fact from the latest trusted result of ``spec.from_tool`` about the same subject."""
    subject = _subject(args, spec.keys)
    if spec.keys and subject is None:
        return None
    for step in reversed(run.steps):
        for call in reversed(step.calls):
            if (
                call.tool != spec.from_tool
                or call.untrusted
                or call.quarantined
                or not call.executed
                or call.result is None
                or call.error
            ):
                continue
            found = _fact_in(call, spec, subject)
            if found is not None:
                return found
    return None


def _subject(value: Any, keys: Sequence[str]) -> Any:
    for key in keys:
        found = find_key(value, key)
        if found is not None:
            return found
    return None


def _fact_in(call: CallRecord, spec: FactSpec, subject: Any) -> Any:
    records = call.result if isinstance(call.result, list) else [call.result]
    for item in records:
        if spec.keys:
            named = _subject(item, spec.keys)
            if named is None and not isinstance(call.result, list):
                named = _subject(call.args, spec.keys)
            if named != subject:
                continue
        value = dig(item, spec.value)
        if value is not None:
            return value
    return None
