"""Stage 1: arguments must validate exactly against the tool's JSON schema (Draft 2020-12)."""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from core.domain import HttpBinding, ParamLocation, Tool
from core.guardrails.findings import Finding, deny
from core.schema_errors import json_path, schema_problems

MAX_MESSAGES = 8
_SHOWN = 60
_COMBINATORS = ("allOf", "anyOf", "oneOf", "$ref", "$dynamicRef")
_OPEN_MARKERS = ("additionalProperties", "unevaluatedProperties", "patternProperties")
_TRAVERSAL = ("/", "\\", "..", "%2f", "%5c", "%2e%2e")


def shown(value: Any) -> str:
    """A value as it appears in a message: repr, cut to a readable length."""
    text = repr(value)
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "...'"


def arg_path(parts: Iterable[str | int]) -> str:
    """``args.body.lines[0].quantity`` from a JSON path."""
    return json_path(parts, root="args")


def closed_schema(schema: Any, *, closable: bool = True) -> Any:
    """A copy where every plain object schema with ``properties`` rejects unknown fields.

    Schemas that say nothing about extra properties are closed so that "validate exactly"
    holds whatever the spec's author wrote; objects combined with ``allOf``/``$ref`` are left
    as they are, since closing one part would reject the fields of the other parts.
    """
    if isinstance(schema, list):
        return [closed_schema(item, closable=closable) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ("properties", "$defs", "definitions", "patternProperties"):
            out[key] = (
                {k: closed_schema(v) for k, v in value.items()}
                if isinstance(value, dict)
                else value
            )
        elif key in ("items", "additionalProperties", "anyOf", "oneOf", "prefixItems", "not"):
            out[key] = closed_schema(value)
        elif key == "allOf":
            out[key] = closed_schema(value, closable=False)
        else:
            out[key] = copy.deepcopy(value)
    if closable and "properties" in out and not any(k in out for k in _OPEN_MARKERS + _COMBINATORS):
        out["additionalProperties"] = False
    return out


class ArgsValidator:
    """Validates a call's arguments; compiled validators are cached per tool schema."""

    def __init__(self, *, max_arg_chars: int = 10_000, cache_size: int = 1024) -> None:
        self.max_arg_chars = max_arg_chars
        self._cache: OrderedDict[int, tuple[dict[str, Any], Draft202012Validator]] = OrderedDict()
        self._size = cache_size
        self._lock = threading.Lock()

    def validator(self, tool: Tool) -> Draft202012Validator:
        """The compiled validator for the tool's schema (raises ``SchemaError`` if invalid)."""
        key = id(tool.args_schema)
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None and hit[0] is tool.args_schema:
                self._cache.move_to_end(key)
                return hit[1]
        schema = closed_schema(tool.args_schema)
        Draft202012Validator.check_schema(schema)
        compiled = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
        with self._lock:
            # The entry keeps the schema object alive, so its id cannot be reused meanwhile.
            self._cache[key] = (tool.args_schema, compiled)
            while len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return compiled

    def check(self, tool: Tool, args: dict[str, Any]) -> list[Finding]:
        """Schema findings for one call: at most ``MAX_MESSAGES``, then one counting the rest."""
        oversize = list(self._oversize(args, ()))
        if oversize:
            return oversize[:MAX_MESSAGES]
        try:
            validator = self.validator(tool)
        except SchemaError as exc:
            return [
                deny(
                    "schema",
                    f"the tool {tool.name!r} has an invalid argument schema "
                    f"({exc.message}); it cannot be called",
                )
            ]
        problems = schema_problems(validator.iter_errors(args), root="args", limit=MAX_MESSAGES)
        found = [deny("schema", str(problem)) for problem in problems]
        found.extend(_path_params(tool, args))
        return found

    def _oversize(self, value: Any, path: tuple[str | int, ...]) -> Iterator[Finding]:
        if isinstance(value, str):
            if len(value) > self.max_arg_chars:
                yield deny(
                    "schema",
                    f"{arg_path(path)}: string of {len(value)} characters "
                    f"exceeds the limit of {self.max_arg_chars}",
                )
        elif isinstance(value, dict):
            for key, item in value.items():
                if len(str(key)) > self.max_arg_chars:
                    yield deny(
                        "schema",
                        f"{arg_path(path)}: a field name exceeds {self.max_arg_chars} characters",
                    )
                yield from self._oversize(item, (*path, str(key)))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                yield from self._oversize(item, (*path, index))


def _path_params(tool: Tool, args: dict[str, Any]) -> list[Finding]:
    """Path parameters must name one segment: no separators, dot-dot or control characters."""
    if not isinstance(tool.binding, HttpBinding):
        return []
    found = []
    for param in tool.binding.params:
        value = args.get(param.arg)
        if param.location is not ParamLocation.PATH or not isinstance(value, str):
            continue
        lowered = value.lower()
        if any(mark in lowered for mark in _TRAVERSAL) or any(
            ord(ch) < 32 or ord(ch) == 127 for ch in value
        ):
            found.append(
                deny(
                    "schema",
                    f"{arg_path([param.arg])}: {shown(value)} is a path "
                    "parameter and must not contain '/', '\\', '..' or "
                    "control characters",
                )
            )
    return found
