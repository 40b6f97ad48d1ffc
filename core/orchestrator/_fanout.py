"""Fan-out over data and fan-in that stays bounded.

``fan_out`` starts one child per item of a collection the run already holds — the result of
an earlier call, or an operator input — so a 1,000-item fan-out costs the model one short call
instead of 1,000 generated task objects. Items read from an untrusted result can only start
read-only children: untrusted data may pick what to look at, never what to change.

When a call's children finish, the parent gets a summary whose size does not grow with the
number of children (counts by status, failures first, a sample) once there are more than
:data:`INLINE_CHILDREN`; ``child_results`` pages and filters the rest, answered by the engine
from the parent's own records without a model or a network call.
"""

from __future__ import annotations

import json
import string
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import jsonpath
from jsonpath.exceptions import JSONPathError
from pydantic import BaseModel, Field, ValidationError

from core.domain import (
    CallRecord,
    CallStatus,
    ChildRef,
    Decision,
    EngineBinding,
    Grant,
    Run,
    RunStatus,
    Tool,
    Verdict,
)
from core.orchestrator._child_specs import ChildSpec, ChildSpecError

FANOUT_TOOL = "fan_out"
RESULTS_TOOL = "child_results"
MAX_ITEMS = 1000
INLINE_CHILDREN = 20
"""Up to this many children, every child's outcome is pasted into the call's result."""
SAMPLE = 5
FAILURES = 10
PAGE = 50
RESULT_CHARS = 500
"""A child's result as the bounded summary shows it."""


class _Over(BaseModel):
    from_tool: str | None = Field(default=None, min_length=1)
    input: str | None = Field(default=None, min_length=1)
    path: str | None = None


class _FanOut(BaseModel):
    over: _Over
    goal: str = Field(min_length=1, max_length=2000)
    max_items: int = Field(default=MAX_ITEMS, ge=1, le=MAX_ITEMS)


def fanout_tool() -> Tool:
    """``fan_out`` as the planner sees it."""
    return Tool(
        name=FANOUT_TOOL,
        binding=EngineBinding(handler="children", name=FANOUT_TOOL),
        description=(
            "Start one child run per item of a collection this run already has (the latest "
            "result of a tool, or an operator input) and wait for all of them. The goal is a "
            "template: {item} is the item, {field} a field of an object item. Returns counts "
            f"by status, failures first and a sample; page the rest with {RESULTS_TOOL}."
        ),
        args_schema={
            "type": "object",
            "additionalProperties": False,
            "required": ["over", "goal"],
            "properties": {
                "over": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "from_tool": {"type": "string", "description": "a tool already called"},
                        "input": {"type": "string", "description": "an operator input's name"},
                        "path": {
                            "type": "string",
                            "description": "JSONPath to the items inside it, e.g. $.suppliers[*]",
                        },
                    },
                },
                "goal": {"type": "string", "minLength": 1},
                "max_items": {"type": "integer", "minimum": 1, "maximum": MAX_ITEMS},
            },
        },
    )


def results_tool() -> Tool:
    """``child_results`` as the planner sees it (answered by the engine, a read)."""
    return Tool(
        name=RESULTS_TOOL,
        binding=EngineBinding(handler="children", name=RESULTS_TOOL),
        description=(
            "Page through the children of a fan-out call: their goals, statuses, results and "
            "errors, optionally only those with one status."
        ),
        args_schema={
            "type": "object",
            "additionalProperties": False,
            "required": ["call_id"],
            "properties": {
                "call_id": {"type": "string"},
                "status": {"type": "string", "enum": [s.value for s in RunStatus]},
                "offset": {"type": "integer", "minimum": 0},
                "limit": {"type": "integer", "minimum": 1, "maximum": PAGE},
            },
        },
    )


def fanout_from_data(parent: Run, call: CallRecord) -> list[ChildSpec]:
    """The resolver of ``fan_out``: one child per item, checked before anything starts."""
    try:
        args = _FanOut.model_validate(call.args)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "arguments"
        raise ChildSpecError(f"bad {FANOUT_TOOL} arguments at {where}: {first['msg']}") from exc
    source, untrusted = _source(parent, args.over)
    items = _items(source, args.over.path)
    if not items:
        raise ChildSpecError(f"{FANOUT_TOOL}: the collection is empty; nothing to fan out")
    if len(items) > args.max_items:
        raise ChildSpecError(
            f"{FANOUT_TOOL}: {len(items)} items, more than max_items {args.max_items}"
        )
    grant = Grant(side_effects=["read"]) if untrusted else None
    return [
        ChildSpec(goal=_goal(args.goal, item), inputs={"item": item}, grant=grant) for item in items
    ]


def _source(run: Run, over: _Over) -> tuple[Any, bool]:
    if (over.from_tool is None) == (over.input is None):
        raise ChildSpecError(f"{FANOUT_TOOL}: give over.from_tool or over.input, one of them")
    if over.input is not None:
        if over.input not in run.inputs:
            raise ChildSpecError(f"{FANOUT_TOOL}: the run has no input {over.input!r}")
        return run.inputs[over.input], False
    for step in reversed(run.steps):
        for call in reversed(step.calls):
            if call.tool == over.from_tool and call.status is CallStatus.DONE and call.executed:
                if call.quarantined:
                    raise ChildSpecError(f"{FANOUT_TOOL}: that result is withheld (drift)")
                return call.result, call.untrusted
    raise ChildSpecError(f"{FANOUT_TOOL}: {over.from_tool} has no successful result in this run")


def _items(source: Any, path: str | None) -> list[Any]:
    if path is None:
        if isinstance(source, list):
            return source
        lists = (
            [v for v in source.values() if isinstance(v, list)] if isinstance(source, dict) else []
        )
        if len(lists) == 1:
            return list(lists[0])
        raise ChildSpecError(f"{FANOUT_TOOL}: the source is not a list; give over.path")
    try:
        found = jsonpath.findall(path, source)
    except JSONPathError as exc:
        raise ChildSpecError(f"{FANOUT_TOOL}: over.path is not JSONPath: {exc}") from None
    if len(found) == 1 and isinstance(found[0], list):
        return list(found[0])
    return list(found)


def _goal(template: str, item: Any) -> str:
    fields: dict[str, Any] = dict(item) if isinstance(item, Mapping) else {}
    fields["item"] = item if isinstance(item, str) else json.dumps(item, ensure_ascii=False)
    try:
        names = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
        missing = [n for n in names if n not in fields]
        if missing:
            raise ChildSpecError(f"{FANOUT_TOOL}: goal names {{{missing[0]}}}, not in the item")
        return template.format_map(fields)[:4000]
    except (ValueError, IndexError, KeyError) as exc:
        raise ChildSpecError(f"{FANOUT_TOOL}: bad goal template: {exc}") from None


# -- fan-in ----------------------------------------------------------------------------------


def fanin_result(refs: list[ChildRef], call_id: str) -> dict[str, Any]:
    """What the parent's call returns: every child up to :data:`INLINE_CHILDREN`, otherwise a
    summary of constant size."""
    failed = [r for r in refs if r.status is not RunStatus.SUCCEEDED]
    counts = {"succeeded": len(refs) - len(failed), "failed": len(failed)}
    if len(refs) <= INLINE_CHILDREN:
        return {"children": [child_view(r) for r in refs], **counts}
    by_status: dict[str, int] = {}
    for ref in refs:
        by_status[ref.status.value] = by_status.get(ref.status.value, 0) + 1
    ok = [r for r in refs if r.status is RunStatus.SUCCEEDED]
    return {
        "total": len(refs),
        **counts,
        "by_status": by_status,
        "failures": [child_view(r, cut=RESULT_CHARS) for r in failed[:FAILURES]],
        "sample": [child_view(r, cut=RESULT_CHARS) for r in ok[:SAMPLE]],
        "more": f"{RESULTS_TOOL} with call_id {call_id!r} pages through all {len(refs)}",
    }


def child_view(ref: ChildRef, *, cut: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"run_id": ref.id, "goal": ref.goal, "status": ref.status.value}
    if ref.result is not None:
        out["result"] = ref.result if cut is None else ref.result[:cut]
    if ref.error is not None:
        out["error"] = ref.error
    return out


def answer_results(run: Run, call: CallRecord, *, now: datetime) -> CallRecord:
    """The engine's answer to a ``child_results`` call, from the run's own child records."""
    args = call.args
    refs = [c for c in run.children if c.call_id == args.get("call_id")]
    status = args.get("status")
    if status is not None:
        refs = [r for r in refs if r.status.value == status]
    offset = int(args.get("offset") or 0)
    limit = min(int(args.get("limit") or PAGE), PAGE)
    page = refs[offset : offset + limit]
    call.decision = Decision(
        id=f"dec-{call.call_id}", verdict=Verdict.ALLOW, reasons=["reads this run's own records"]
    )
    call.status = CallStatus.DONE
    call.executed = True
    call.untrusted = any(r.untrusted for r in page)
    call.result = {
        "children": [child_view(r) for r in page],
        "offset": offset,
        "total": len(refs),
        "next_offset": offset + limit if offset + limit < len(refs) else None,
    }
    call.started_at = call.ended_at = now
    return call
