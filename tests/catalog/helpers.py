"""Small builders for hand-made specs, and schema assertions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from core.catalog import ImportResult, import_document
from core.domain import Tool

SPECS = Path(__file__).resolve().parents[1] / "data" / "specs"


def openapi(
    paths: dict[str, Any],
    *,
    version: str = "3.0.3",
    title: str = "Test API",
    schemas: Any = None,
    **extra: Any,
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "openapi": version,
        "info": {"title": title, "version": "1.0"},
        "servers": [{"url": "https://api.example.test/v1"}],
        "paths": paths,
    }
    if schemas:
        doc["components"] = {"schemas": schemas}
    doc.update(extra)
    return doc


def swagger(
    paths: dict[str, Any], *, definitions: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "swagger": "2.0",
        "info": {"title": "Legacy API", "version": "2"},
        "host": "legacy.example.test",
        "basePath": "/api",
        "schemes": ["https"],
        "paths": paths,
    }
    if definitions:
        doc["definitions"] = definitions
    doc.update(extra)
    return doc


def post_body(schema: dict[str, Any], *, op_id: str = "send") -> dict[str, Any]:
    """Paths with one POST /things taking ``schema`` as its required JSON body."""
    return {
        "/things": {
            "post": {
                "operationId": op_id,
                "responses": {"200": {"description": "ok"}},
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": schema}},
                },
            }
        }
    }


def one(doc: dict[str, Any]) -> Tool:
    result = import_document(doc)
    assert len(result.tools) == 1, result.warnings
    return result.tools[0]


def result_of(doc: dict[str, Any]) -> ImportResult:
    return import_document(doc)


def write(tmp_path: Path, doc: dict[str, Any], name: str = "spec.yaml") -> str:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return str(path)


def validator(tool: Tool) -> Draft202012Validator:
    Draft202012Validator.check_schema(tool.args_schema)
    return Draft202012Validator(tool.args_schema)


def accepts(tool: Tool, args: dict[str, Any]) -> bool:
    return validator(tool).is_valid(args)


def assert_consistent(tool: Tool) -> None:
    """The contract the executor relies on: one Param per property, and vice versa."""
    props = tool.args_schema["properties"]
    args = [p.arg for p in tool.binding.params]
    assert len(args) == len(set(args)), tool.name
    assert sorted(args) == sorted(props), tool.name
    assert tool.args_schema["type"] == "object"
    assert tool.args_schema["additionalProperties"] is False
    required = set(tool.args_schema.get("required", []))
    assert required == {p.arg for p in tool.binding.params if p.required}, tool.name


def check_schemas(schemas: list[Any]) -> int:
    """``check_schema`` on each schema, checking each shared sub-schema object only once.

    The importer shares converted sub-schemas between tools. Validity against the
    meta-schema is local to each node, so a node already checked can stand in as ``{}``;
    this turns minutes of re-checking Stripe's responses into seconds. Returns the count.
    """
    seen: set[int] = set()
    for schema in schemas:
        Draft202012Validator.check_schema(_unseen(schema, seen))
    return len(schemas)


def _unseen(node: Any, seen: set[int]) -> Any:
    if isinstance(node, dict):
        if id(node) in seen:
            return {}
        seen.add(id(node))
        return {k: _unseen(v, seen) for k, v in node.items()}
    if isinstance(node, list):
        return [_unseen(v, seen) for v in node]
    return node
