"""One OpenAPI 3.1 document, generated from the route table and the pydantic models."""

from __future__ import annotations

import ast
import copy
import inspect
from collections.abc import Iterator, Sequence
from functools import cache
from itertools import pairwise
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from core.api.errors import ErrorBody
from core.api.router import PATH_PARAM, Route

REF = "#/components/schemas/{model}"
TITLE = "Paddock API"
ERROR_TEXT = {
    400: "Malformed request (bad JSON, missing body, bad Idempotency-Key, a base URL this "
    "deployment does not allow)",
    401: "Missing, expired or wrongly signed bearer token",
    403: "The token lacks the role, or the resource belongs to another tenant",
    404: "No such run, approval, scenario or endpoint",
    409: "The request conflicts with the resource's state",
    413: "Body larger than 256 KB",
    415: "Body is not application/json",
    422: "The body or query does not match the schema",
    500: "Internal error (generic message and a correlation id, never a stack trace)",
    503: "A backend or the token issuer is unavailable; retry",
}
Mode = Literal["validation", "serialization"]


@cache
def openapi_document() -> dict[str, Any]:
    """The API's OpenAPI 3.1 document (built once per process)."""
    from core.api.routes import ROUTES

    return build_document(ROUTES)


def document_for(workflows: Sequence[str]) -> dict[str, Any]:
    """The document as this deployment serves it: ``workflow`` lists its workflows."""
    document = copy.deepcopy(openapi_document())
    schema = document["components"]["schemas"].get("StartRunRequest")
    if schema is not None and workflows:
        for key in ("workflow", "scenario"):
            schema["properties"][key]["anyOf"] = [
                {"type": "string", "enum": list(workflows)},
                {"type": "null"},
            ]
    return document


def build_document(routes: Sequence[Route[Any]]) -> dict[str, Any]:
    models: list[tuple[type[BaseModel], Mode]] = [(ErrorBody, "serialization")]
    for route in routes:
        for model, mode in (
            (route.body, "validation"),
            (route.query, "validation"),
            (route.response, "serialization"),
        ):
            if model is not None and (model, mode) not in models:
                models.append((model, mode))  # type: ignore[arg-type]
    refs, defs = models_json_schema(models, ref_template=REF)
    schemas: dict[str, Any] = dict(defs.get("$defs", {}))
    _describe(schemas, {cls.__name__: cls for cls in _all_models(m for m, _ in models)})
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        op = _operation(route, refs, schemas)
        paths.setdefault(route.path, {})[route.method.lower()] = op
    for route in routes:  # query models are inlined as parameters
        if route.query is not None:
            schemas.pop(route.query.__name__, None)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": TITLE,
            "version": "0.1.0",
            "description": "Start, watch, approve and stop fenced agent runs. The same "
            "API is served by AWS Lambda and Azure Functions.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
    }


def _all_models(
    roots: Iterator[type[BaseModel]] | Sequence[type[BaseModel]],
) -> set[type[BaseModel]]:
    """The models and every model their fields refer to."""
    seen: set[type[BaseModel]] = set()
    todo = list(roots)
    while todo:
        model = todo.pop()
        if model in seen:
            continue
        seen.add(model)
        for info in model.model_fields.values():
            for arg in _type_args(info.annotation):
                if isinstance(arg, type) and issubclass(arg, BaseModel):
                    todo.append(arg)
    return seen


def _type_args(annotation: Any) -> Iterator[Any]:
    yield annotation
    for arg in getattr(annotation, "__args__", ()):
        yield from _type_args(arg)


def _describe(schemas: dict[str, Any], models: dict[str, type[BaseModel]]) -> None:
    """Field docstrings (a string right after the field) as property descriptions."""
    for name, schema in schemas.items():
        model = models.get(name)
        if model is None:
            continue
        docs: dict[str, str] = {}
        for cls in reversed(model.__mro__):
            if isinstance(cls, type) and issubclass(cls, BaseModel) and cls is not BaseModel:
                docs.update(_field_docstrings(cls))
        for field, prop in schema.get("properties", {}).items():
            if field in docs and "description" not in prop:
                prop["description"] = docs[field]


@cache
def _field_docstrings(cls: type) -> dict[str, str]:
    try:
        tree = ast.parse(inspect.getsource(cls))
    except (OSError, TypeError, SyntaxError):
        return {}
    body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
    docs: dict[str, str] = {}
    for node, nxt in pairwise(body):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(nxt, ast.Expr)
            and isinstance(nxt.value, ast.Constant)
            and isinstance(nxt.value.value, str)
        ):
            docs[node.target.id] = inspect.cleandoc(nxt.value.value)
    return docs


def _operation(route: Route[Any], refs: dict[Any, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    op: dict[str, Any] = {"operationId": route.operation_id, "summary": route.summary}
    if route.description or route.roles:
        roles = f" Role: {' or '.join(route.roles)}." if route.roles else ""
        op["description"] = (route.description + roles).strip()
    params = [_path_param(name) for name in route.path_params]
    if route.query is not None:
        params += _query_params(schemas[route.query.__name__])
    params += [
        {
            "name": name,
            "in": "header",
            "required": False,
            "description": text,
            "schema": {"type": "string", "minLength": 1, "maxLength": 255},
        }
        for name, text in route.headers
    ]
    if params:
        op["parameters"] = params
    if route.body is not None:
        op["requestBody"] = {
            "required": route.body_required,
            "content": {"application/json": {"schema": refs[(route.body, "validation")]}},
        }
    ok: dict[str, Any] = {"description": route.summary}
    schema = (
        refs[(route.response, "serialization")]
        if route.response is not None
        else {"type": "object"}
    )
    ok["content"] = {"application/json": {"schema": schema}}
    responses: dict[str, Any] = {str(route.status): ok}
    for status in _error_statuses(route):
        responses[str(status)] = {
            "description": ERROR_TEXT[status],
            "content": {"application/json": {"schema": refs[(ErrorBody, "serialization")]}},
        }
    op["responses"] = responses
    op["security"] = [{"bearerAuth": []}] if route.auth else []
    return op


def _error_statuses(route: Route[Any]) -> list[int]:
    statuses = {422, 500, *route.errors}
    if route.auth:
        statuses |= {401, 403, 503}
    if route.body is not None:
        statuses |= {400, 413, 415}
    if route.path_params:
        statuses.add(404)
    if route.headers:
        statuses.add(400)
    return sorted(statuses)


def _path_param(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "string", "pattern": PATH_PARAM.pattern},
    }


def _query_params(schema: dict[str, Any]) -> list[dict[str, Any]]:
    required = set(schema.get("required", []))
    out = []
    for name, prop in schema.get("properties", {}).items():
        prop = dict(prop)
        description = prop.pop("description", None)
        prop.pop("title", None)
        param: dict[str, Any] = {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": prop,
        }
        if description:
            param["description"] = description
        out.append(param)
    return out
