"""Checking the tool calls a model wrote: JSON, known tool, arguments valid for its schema."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from referencing.exceptions import Unresolvable

from core.domain import Tool
from core.planner.messages import HELP_TOOL_NAME, help_tool
from core.schema_errors import render_errors

_MAX_ERRORS = 5
_MAX_NAMES = 40


@dataclass(frozen=True)
class CheckedCall:
    """One tool call of a reply and what is wrong with it, if anything."""

    id: str
    name: str
    raw: str
    args: dict[str, Any] | None
    """The parsed arguments; ``None`` when they are not a JSON object."""
    problem: str | None = None

    @property
    def unparseable(self) -> bool:
        return self.args is None


def check_calls(tool_calls: Sequence[Any], tools: Mapping[str, Tool]) -> list[CheckedCall]:
    """Parse and check each call of a reply; ids are made unique and never empty."""
    seen: set[str] = set()
    checked = []
    for index, call in enumerate(tool_calls):
        function = getattr(call, "function", None)
        name = str(getattr(function, "name", "") or "")
        raw = str(getattr(function, "arguments", "") or "")
        call_id = _unique_id(str(getattr(call, "id", "") or ""), index, seen)
        checked.append(_check(call_id, name, raw, tools))
    return checked


def _unique_id(given: str, index: int, seen: set[str]) -> str:
    call_id = given or f"call-{index}"
    while call_id in seen:
        call_id = f"{call_id}-{index}"
    seen.add(call_id)
    return call_id


def _check(call_id: str, name: str, raw: str, tools: Mapping[str, Tool]) -> CheckedCall:
    try:
        parsed = json.loads(raw) if raw.strip() else {}
    except ValueError as exc:
        return CheckedCall(
            call_id,
            name,
            raw,
            None,
            f"the arguments of {name or 'the call'} are not valid JSON ({exc}).",
        )
    if not isinstance(parsed, dict):
        return CheckedCall(
            call_id,
            name,
            raw,
            None,
            f"the arguments of {name or 'the call'} must be a JSON object.",
        )
    if name == HELP_TOOL_NAME:
        schema: dict[str, Any] = help_tool()["function"]["parameters"]
    elif name in tools:
        schema = tools[name].args_schema
    else:
        return CheckedCall(call_id, name, raw, parsed, _unknown(name, tools))
    errors = schema_errors(schema, parsed)
    problem = f"invalid arguments for {name}: {'; '.join(errors)}." if errors else None
    return CheckedCall(call_id, name, raw, parsed, problem)


def _unknown(name: str, tools: Mapping[str, Tool]) -> str:
    names = [*sorted(tools)[:_MAX_NAMES], HELP_TOOL_NAME]
    more = ", ..." if len(tools) > _MAX_NAMES else ""
    return f"there is no tool named {name!r}; the tools are: {', '.join(names)}{more}."


def schema_errors(schema: dict[str, Any], args: dict[str, Any]) -> list[str]:
    """Readable Draft 2020-12 errors, at most a few; none when the schema cannot be used.

    A schema the validator cannot use is not the model's fault: the call goes on to the
    guardrails, whose schema check decides.
    """
    try:
        validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
        found = list(validator.iter_errors(args))
    except (SchemaError, Unresolvable):
        return []
    return render_errors(found, root="args", limit=_MAX_ERRORS)
