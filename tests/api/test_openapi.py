"""The OpenAPI document: valid 3.1, complete, and rendered into docs/api.md."""

from __future__ import annotations

from pathlib import Path

from openapi_spec_validator import validate

from core.api.openapi import openapi_document
from core.api.routes import ROUTES
from paddock.dev.api_docs import update

ROOT = Path(__file__).resolve().parents[2]


def test_document_is_valid_openapi_3_1() -> None:
    doc = openapi_document()
    assert doc["openapi"] == "3.1.0"
    validate(doc)


def test_every_route_is_documented_with_its_errors_and_security() -> None:
    paths = openapi_document()["paths"]
    for route in ROUTES:
        op = paths[route.path][route.method.lower()]
        assert op["operationId"] == route.operation_id
        assert str(route.status) in op["responses"]
        assert ("401" in op["responses"]) == route.auth
        assert bool(op["security"]) == route.auth
    start = paths["/runs"]["post"]
    assert start["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/StartRunRequest"
    }
    assert {"400", "413", "415", "422"} <= set(start["responses"])
    assert [p["name"] for p in start["parameters"]] == ["Idempotency-Key"]


def test_request_schema_forbids_unknown_fields_and_names_one_source() -> None:
    schemas = openapi_document()["components"]["schemas"]
    start = schemas["StartRunRequest"]
    assert start["additionalProperties"] is False
    assert len(start["oneOf"]) == 3
    assert "tenant" not in start["properties"]
    assert start["properties"]["goal"]["description"].startswith("What the agent")


def test_docs_api_md_is_up_to_date() -> None:
    assert update(ROOT / "docs" / "api.md", check=True), (
        "docs/api.md is stale: run .venv/bin/python -m paddock.dev.api_docs"
    )
