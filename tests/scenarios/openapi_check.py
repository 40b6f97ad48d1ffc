"""Check real HTTP responses against an OpenAPI 3.1 document, written for these tests.

Independent of the service code: schemas are located by JSON pointer and validated with
jsonschema, ``$ref``s resolved through a ``referencing`` registry holding the whole document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

_METHODS = ("get", "put", "post", "patch", "delete")
_URI = "urn:paddock:spec"


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str
    template: str
    pattern: re.Pattern[str]
    pointer: str


class SpecChecker:
    """Finds the operation for a request and validates a response body against it."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.prefix = urlsplit(spec["servers"][0]["url"]).path.rstrip("/")
        resource = Resource.from_contents(spec, default_specification=DRAFT202012)
        self.registry: Registry[Any] = Registry().with_resource(_URI, resource)
        self.operations: list[Operation] = []
        for template, item in spec["paths"].items():
            regex = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
            for method in _METHODS:
                if method in item:
                    self.operations.append(
                        Operation(
                            item[method]["operationId"],
                            method.upper(),
                            template,
                            re.compile(f"^{regex}$"),
                            f"/paths/{_escape(template)}/{method}",
                        )
                    )

    def operation(self, method: str, path: str) -> Operation:
        assert path.startswith(self.prefix), f"{path} is outside {self.prefix!r}"
        local = path[len(self.prefix) :]
        for op in self.operations:
            if op.method == method and op.pattern.match(local):
                return op
        raise AssertionError(f"no operation for {method} {path}")

    def documented(self) -> set[tuple[str, str]]:
        """Every (operationId, status) pair the spec documents."""
        return {
            (op.operation_id, status)
            for op in self.operations
            for status in self._node(op.pointer)["responses"]
        }

    def _node(self, pointer: str) -> Any:
        node: Any = self.spec
        for token in pointer.strip("/").split("/"):
            node = node[token.replace("~1", "/").replace("~0", "~")]
        return node

    def schema_pointer(self, op: Operation, status: int) -> str:
        responses = self._node(op.pointer)["responses"]
        assert str(status) in responses, f"{op.operation_id}: status {status} is undocumented"
        pointer = f"{op.pointer}/responses/{status}"
        ref = self._node(pointer).get("$ref")
        if ref is not None:
            pointer = ref[1:]
        return f"{pointer}/content/application~1json/schema"

    def validate(self, method: str, path: str, status: int, body: Any) -> str:
        """Raise if ``body`` breaks the documented schema; return the operationId."""
        op = self.operation(method, path)
        schema = {"$ref": f"{_URI}#{self.schema_pointer(op, status)}"}
        Draft202012Validator(
            schema, registry=self.registry, format_checker=FormatChecker()
        ).validate(body)
        return op.operation_id
