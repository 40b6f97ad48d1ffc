"""Request rules from an OpenAPI spec, for local services that stand in for real APIs: each
operation's parameters and JSON body, checked as the spec says (the example services answer
422 with every problem)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from core.errors import SpecError
from core.schema_errors import schema_problems

_INT = re.compile(r"-?\d{1,12}")
_NUM = re.compile(r"-?\d{1,12}(\.\d{1,12})?")


def spec_server_path(spec: Mapping[str, Any]) -> str:
    """The path part of a parsed spec's first server URL ('' or e.g. '/v3')."""
    url = str(spec["servers"][0]["url"])
    rest = url.split("://", 1)[-1]
    return "/" + rest.split("/", 1)[1].rstrip("/") if "/" in rest else ""


def _pointer(root: Mapping[str, Any], ref: str) -> Any:
    node: Any = root
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def deref(node: Any, root: Mapping[str, Any], seen: tuple[str, ...] = ()) -> Any:
    """``node`` with every local ``$ref`` inlined (the scenario specs have no cycles)."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            if ref in seen:
                raise SpecError(f"$ref cycle at {ref}")
            return deref(_pointer(root, ref), root, (*seen, ref))
        return {k: deref(v, root, seen) for k, v in node.items()}
    if isinstance(node, list):
        return [deref(v, root, seen) for v in node]
    return node


Problem = dict[str, str]


@dataclass(frozen=True)
class _Param:
    name: str
    location: str
    required: bool
    schema: dict[str, Any]
    validator: Draft202012Validator


def _validator(schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator(schema, format_checker=FormatChecker())


def _problems(validator: Draft202012Validator, value: Any, where: str) -> list[Problem]:
    problems = schema_problems(validator.iter_errors(value), root=where)
    return [{"location": p.where, "message": p.message} for p in problems]


def _coerce(raw: str, schema: Mapping[str, Any]) -> Any:
    """A query or path string as the type its schema declares (unchanged when it does not fit)."""
    kind = schema.get("type")
    if kind == "integer" and _INT.fullmatch(raw):
        return int(raw)
    if kind == "number" and _NUM.fullmatch(raw):
        return float(raw)
    if kind == "boolean" and raw in ("true", "false"):
        return raw == "true"
    return raw


class OperationRules:
    """What one operation accepts: its parameters and JSON body, from the spec."""

    def __init__(self, operation: Mapping[str, Any]) -> None:
        self.operation_id = str(operation["operationId"])
        self.params = tuple(
            _Param(
                p["name"], p["in"], bool(p.get("required")), p["schema"], _validator(p["schema"])
            )
            for p in operation.get("parameters", [])
        )
        body = operation.get("requestBody")
        self.body_required = bool(body and body.get("required"))
        self.body = _validator(body["content"]["application/json"]["schema"]) if body else None

    def check(
        self, path: Mapping[str, str], query: list[tuple[str, str]], body: bytes
    ) -> tuple[dict[str, Any], list[Problem]]:
        """Arguments parsed from the request, and every way the request breaks the spec."""
        args: dict[str, Any] = {}
        problems: list[Problem] = []
        known = {p.name for p in self.params if p.location == "query"}
        names = [name for name, _ in query]
        for name in sorted(set(names)):
            if name not in known:
                problems.append({"location": f"query.{name}", "message": "unknown parameter"})
            elif names.count(name) > 1:
                problems.append({"location": f"query.{name}", "message": "given more than once"})
        given = {"path": dict(path), "query": dict(query)}
        for param in self.params:
            raw = given.get(param.location, {}).get(param.name)
            where = f"{param.location}.{param.name}"
            if raw is None:
                if param.required:
                    problems.append({"location": where, "message": "required"})
                continue
            value = _coerce(raw, param.schema)
            problems += _problems(param.validator, value, where)
            args[param.name] = value
        if self.body is not None:
            parsed, body_problems = self._body(body)
            problems += body_problems
            if parsed is not None:
                args["body"] = parsed
        return args, problems

    def _body(self, raw: bytes) -> tuple[Any, list[Problem]]:
        assert self.body is not None
        if not raw.strip():
            return None, (
                [{"location": "body", "message": "required"}] if self.body_required else []
            )
        try:
            parsed = json.loads(raw)
        except ValueError:
            return None, [{"location": "body", "message": "not valid JSON"}]
        return parsed, _problems(self.body, parsed, "body")


def spec_operation_rules(spec: Mapping[str, Any]) -> dict[str, OperationRules]:
    """Request rules for every operation of a parsed spec, by operationId."""
    rules: dict[str, OperationRules] = {}
    for item in spec["paths"].values():
        for method, operation in item.items():
            if method in ("get", "put", "post", "patch", "delete"):
                rule = OperationRules(deref(operation, spec))
                rules[rule.operation_id] = rule
    return rules
