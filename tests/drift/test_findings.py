"""Run-time drift findings name the field, what the schema expected and what was seen."""

from __future__ import annotations

from core.drift import response_drift
from core.execution._schema import validate_body
from core.execution.base import ExecutionResult
from tests.tools import http_tool

SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["ID"],
    "properties": {
        "ID": {"type": "string"},
        "qty": {"type": "integer"},
        "state": {"enum": ["open", "closed"]},
    },
}
TOOL = http_tool(
    name="getThing",
    operation_id="getThing",
    description="",
    method="GET",
    path="/things/{id}",
    base_url="http://127.0.0.1:9",
    params=(),
    args_schema={"type": "object", "properties": {"id": {"type": "string"}}},
    responses={"200": SCHEMA},
)


def findings(body: object) -> dict[str, tuple[str, str | None]]:
    valid, errors = validate_body(SCHEMA, body)
    result = ExecutionResult(status_code=200, body=body, valid=valid, validation_errors=errors)
    return {f["field"]: (f["expected"], f["seen"]) for f in response_drift(TOOL, result)}


def test_expected_and_seen_for_each_kind_of_violation() -> None:
    assert findings({"uuid": "x", "qty": "7", "state": "held"}) == {
        "$.ID": ("required property", "missing"),
        "$.uuid": ("no such property", "present"),
        "$.qty": ("integer", 'string "7"'),
        "$.state": ('one of ["open", "closed"]', '"held"'),
    }


def test_a_valid_response_has_no_findings() -> None:
    assert findings({"ID": "x", "qty": 7}) == {}


def test_error_naming_unknown_and_known_fields() -> None:
    body = {
        "errors": [
            {"field": "body.supplier_uuid", "message": "required"},
            {"param": "id", "message": "bad"},
        ]
    }
    result = ExecutionResult(status_code=400, body=body)
    found = response_drift(TOOL, result)
    assert [(f["kind"], f["field"]) for f in found] == [("unknown_field_in_error", "supplier_uuid")]
    assert response_drift(TOOL, ExecutionResult(status_code=500, body=body)) == []
