"""The spec diff on hand-made changes, one kind of change per test."""

from __future__ import annotations

import copy
from typing import Any

from core.drift import Change, Level
from core.drift.specs import diff_documents
from tests.catalog.helpers import openapi


def spec(
    *,
    params: list[dict[str, Any]] | None = None,
    body: dict[str, Any] | None = None,
    response: dict[str, Any] | None = None,
    responses: dict[str, Any] | None = None,
) -> dict[str, Any]:
    op: dict[str, Any] = {"operationId": "getOrder", "parameters": params or []}
    op["responses"] = responses or {
        "200": {
            "description": "ok",
            "content": {"application/json": {"schema": response or {"type": "object"}}},
        }
    }
    paths: dict[str, Any] = {"/orders/{id}": {"get": op}}
    if body is not None:
        paths["/orders"] = {
            "post": {
                "operationId": "createOrder",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": body}},
                },
                "responses": {"201": {"description": "created"}},
            }
        }
    return openapi(paths)


ID_PARAM = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}


def only(changes: list[Change]) -> Change:
    assert len(changes) == 1, changes
    return changes[0]


def test_renamed_response_field_shows_as_removed_and_added_with_a_rename_hint() -> None:
    old = spec(
        params=[ID_PARAM],
        response={"type": "object", "required": ["ID"], "properties": {"ID": {"type": "string"}}},
    )
    new = spec(
        params=[ID_PARAM],
        response={
            "type": "object",
            "required": ["uuid"],
            "properties": {"uuid": {"type": "string"}},
        },
    )
    changes = diff_documents(old, new)
    by_kind = {c.kind: c for c in changes}
    removed, added = by_kind["response-property-removed"], by_kind["response-property-added"]
    assert removed.breaking and removed.location == "response 200 $.ID"
    assert not added.breaking and added.location == "response 200 $.uuid"
    assert removed.hint == added.hint == "may be a rename: 'ID' -> 'uuid'"


def test_fields_of_different_types_get_no_rename_hint() -> None:
    old = spec(response={"type": "object", "properties": {"ID": {"type": "string"}}})
    new = spec(response={"type": "object", "properties": {"count": {"type": "integer"}}})
    assert all(c.hint is None for c in diff_documents(old, new))


def test_renamed_query_parameter_pairs_up() -> None:
    old = spec(params=[ID_PARAM, {"name": "ID", "in": "query", "schema": {"type": "string"}}])
    new = spec(
        params=[
            ID_PARAM,
            {"name": "uuid", "in": "query", "required": True, "schema": {"type": "string"}},
        ]
    )
    changes = {c.kind: c for c in diff_documents(old, new)}
    assert changes["parameter-added-required"].breaking
    assert changes["parameter-added-required"].hint == "may be a rename: query:ID -> query:uuid"
    assert changes["parameter-removed"].hint == "may be a rename: query:ID -> query:uuid"


def test_response_field_type_change_is_breaking() -> None:
    old = spec(response={"type": "object", "properties": {"total": {"type": "number"}}})
    new = spec(response={"type": "object", "properties": {"total": {"type": "string"}}})
    change = only(diff_documents(old, new))
    assert (change.kind, change.location, change.level) == (
        "response-type-changed",
        "response 200 $.total",
        Level.BREAKING,
    )


def test_response_type_narrowed_is_not_breaking() -> None:
    old = spec(response={"type": "object", "properties": {"n": {"type": ["integer", "null"]}}})
    new = spec(response={"type": "object", "properties": {"n": {"type": "integer"}}})
    assert only(diff_documents(old, new)).level is Level.INFO


def test_request_type_widened_integer_to_number_is_not_breaking() -> None:
    old = spec(body={"type": "object", "properties": {"qty": {"type": "integer"}}})
    new = spec(body={"type": "object", "properties": {"qty": {"type": "number"}}})
    change = only(diff_documents(old, new))
    assert (change.kind, change.breaking) == ("request-type-widened", False)


def test_new_required_parameter_is_breaking_and_optional_is_not() -> None:
    required = {"name": "tenant", "in": "header", "required": True, "schema": {"type": "string"}}
    optional = {"name": "expand", "in": "query", "schema": {"type": "boolean"}}
    changes = diff_documents(spec(params=[ID_PARAM]), spec(params=[ID_PARAM, required, optional]))
    assert {(c.kind, c.location, c.breaking) for c in changes} == {
        ("parameter-added-required", "parameter header:tenant", True),
        ("parameter-added", "parameter query:expand", False),
    }


def test_parameter_that_becomes_required_is_breaking() -> None:
    param = {"name": "expand", "in": "query", "schema": {"type": "boolean"}}
    change = only(
        diff_documents(
            spec(params=[ID_PARAM, param]), spec(params=[ID_PARAM, {**param, "required": True}])
        )
    )
    assert (change.kind, change.breaking) == ("parameter-became-required", True)


def test_removed_enum_value_breaks_requests_but_not_responses() -> None:
    enum_old = {"type": "string", "enum": ["open", "closed", "held"]}
    enum_new = {"type": "string", "enum": ["open", "closed"]}
    request = only(
        diff_documents(
            spec(body={"type": "object", "properties": {"state": enum_old}}),
            spec(body={"type": "object", "properties": {"state": enum_new}}),
        )
    )
    assert (request.kind, request.breaking) == ("request-enum-value-removed", True)
    assert "'held'" in request.message
    response = only(
        diff_documents(
            spec(response={"type": "object", "properties": {"state": enum_old}}),
            spec(response={"type": "object", "properties": {"state": enum_new}}),
        )
    )
    assert (response.kind, response.breaking) == ("response-enum-value-removed", False)


def test_new_response_enum_value_is_a_warning() -> None:
    change = only(
        diff_documents(
            spec(response={"type": "string", "enum": ["a"]}),
            spec(response={"type": "string", "enum": ["a", "b"]}),
        )
    )
    assert (change.kind, change.level) == ("response-enum-value-added", Level.WARNING)


def test_loosened_request_constraint_is_not_breaking() -> None:
    old = spec(body={"type": "object", "properties": {"note": {"type": "string", "maxLength": 50}}})
    new = spec(
        body={"type": "object", "properties": {"note": {"type": "string", "maxLength": 500}}}
    )
    change = only(diff_documents(old, new))
    assert (change.kind, change.breaking) == ("request-constraint-loosened", False)
    assert "maxLength changed from 50 to 500" in change.message


def test_tightened_request_constraint_is_breaking() -> None:
    old = spec(body={"type": "object", "properties": {"qty": {"type": "integer", "minimum": 1}}})
    new = spec(body={"type": "object", "properties": {"qty": {"type": "integer", "minimum": 10}}})
    change = only(diff_documents(old, new))
    assert (change.kind, change.location, change.breaking) == (
        "request-constraint-tightened",
        "request body $.qty",
        True,
    )


def test_new_request_pattern_is_breaking() -> None:
    old = spec(body={"type": "object", "properties": {"sku": {"type": "string"}}})
    new = spec(
        body={
            "type": "object",
            "properties": {"sku": {"type": "string", "pattern": "^[A-Z]{3}-[0-9]+$"}},
        }
    )
    assert only(diff_documents(old, new)).breaking


def test_removed_success_response_is_breaking_and_error_response_a_warning() -> None:
    ok = {"description": "ok", "content": {"application/json": {"schema": {"type": "object"}}}}
    gone = {"description": "gone", "content": {"application/json": {"schema": {"type": "object"}}}}
    changes = diff_documents(spec(responses={"200": ok, "410": gone}), spec(responses={"201": ok}))
    assert {(c.kind, c.location, c.level) for c in changes} == {
        ("response-status-removed", "response 200", Level.BREAKING),
        ("response-status-removed", "response 410", Level.WARNING),
        ("response-status-added", "response 201", Level.INFO),
    }


def test_request_property_removed_from_a_closed_object_is_breaking() -> None:
    old = {
        "type": "object",
        "additionalProperties": False,
        "properties": {"item": {"type": "string"}, "note": {"type": "string"}},
    }
    new = copy.deepcopy(old)
    del new["properties"]["note"]
    change = only(diff_documents(spec(body=old), spec(body=new)))
    assert (change.kind, change.location, change.breaking) == (
        "request-property-removed",
        "request body $.note",
        True,
    )
    open_old = {k: v for k, v in old.items() if k != "additionalProperties"}
    open_new = {k: v for k, v in new.items() if k != "additionalProperties"}
    assert only(diff_documents(spec(body=open_old), spec(body=open_new))).level is (Level.WARNING)


def test_changes_inside_referenced_and_array_schemas_are_found() -> None:
    def doc(qty_type: str) -> dict[str, Any]:
        base = spec(response={"type": "array", "items": {"$ref": "#/components/schemas/Line"}})
        base["components"] = {
            "schemas": {"Line": {"type": "object", "properties": {"qty": {"type": qty_type}}}}
        }
        return base

    change = only(diff_documents(doc("integer"), doc("string")))
    assert (change.kind, change.location, change.breaking) == (
        "response-type-changed",
        "response 200 $[].qty",
        True,
    )


def test_deprecated_operation_removed_without_sunset_is_still_breaking() -> None:
    old = spec(params=[ID_PARAM])
    old["paths"]["/orders/{id}"]["get"]["deprecated"] = True
    new = openapi({"/health": {"get": {"responses": {"200": {"description": "ok"}}}}})
    removed = [c for c in diff_documents(old, new) if c.kind == "operation-removed"]
    assert removed[0].breaking and removed[0].message == "operation removed"


def test_breaking_changes_are_listed_first() -> None:
    old = spec(body={"type": "object", "properties": {"a": {"type": "string"}}})
    new = spec(
        body={
            "type": "object",
            "required": ["b"],
            "properties": {
                "a": {"type": "string"},
                "b": {"type": "string"},
                "c": {"type": "string"},
            },
        }
    )
    levels = [c.level for c in diff_documents(old, new)]
    assert levels == sorted(levels, key=[Level.BREAKING, Level.WARNING, Level.INFO].index)
    assert levels[0] is Level.BREAKING


def test_changes_inside_recursive_schemas_are_found_and_the_walk_ends() -> None:
    def doc(label_type: str) -> dict[str, Any]:
        base = spec(response={"$ref": "#/components/schemas/Node"})
        base["components"] = {
            "schemas": {
                "Node": {
                    "type": "object",
                    "properties": {
                        "label": {"type": label_type},
                        "children": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Node"},
                        },
                    },
                }
            }
        }
        return base

    change = only(diff_documents(doc("string"), doc("integer")))
    assert (change.kind, change.location, change.breaking) == (
        "response-type-changed",
        "response 200 $.label",
        True,
    )
