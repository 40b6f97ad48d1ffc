"""The scenario specs: valid OpenAPI, shipped with the package, tight enough to guard calls."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_spec_validator import validate

import examples.supply_chain as sc

EXPECTED_OPERATIONS = {
    "erp.yaml": {
        "get_stock",
        "list_vendors",
        "delete_vendor",
        "update_vendor_bank",
        "list_purchase_orders",
        "create_purchase_order",
    },
    "portal.yaml": {
        "search_suppliers",
        "request_quote",
        "list_supplier_messages",
        "send_supplier_message",
    },
    "risk.yaml": {"get_risk_score"},
}
METHODS = ("get", "put", "post", "patch", "delete")


def load(path: Path) -> dict[str, Any]:
    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]


def resolve(spec: dict[str, Any], node: Any) -> Any:
    """Inline local $refs (test-side, so the service's own resolver is not trusted here)."""
    if isinstance(node, dict):
        if "$ref" in node:
            target: Any = spec
            for token in node["$ref"][2:].split("/"):
                target = target[token]
            return resolve(spec, target)
        return {k: resolve(spec, v) for k, v in node.items()}
    if isinstance(node, list):
        return [resolve(spec, v) for v in node]
    return node


@pytest.fixture(scope="module")
def specs() -> dict[str, dict[str, Any]]:
    return {path.name: load(path) for path in sc.spec_paths()}


def test_spec_paths_are_three_files_shipped_inside_the_package() -> None:
    paths = sc.spec_paths()
    package_dir = Path(sc.__file__).parent
    assert [p.name for p in paths] == ["erp.yaml", "portal.yaml", "risk.yaml"]
    for path in paths:
        assert path.is_file()
        assert path.parent == package_dir / "specs"
    assert (package_dir / "specs" / "__init__.py").is_file()  # so the wheel carries them


@pytest.mark.parametrize("name", sorted(EXPECTED_OPERATIONS))
def test_spec_is_valid_openapi_3_1(specs: dict[str, dict[str, Any]], name: str) -> None:
    validate(specs[name])
    assert specs[name]["openapi"].startswith("3.1")


def test_titles_are_distinct(specs: dict[str, dict[str, Any]]) -> None:
    titles = [spec["info"]["title"] for spec in specs.values()]
    assert len(set(titles)) == 3


def test_locations_and_auth(specs: dict[str, dict[str, Any]]) -> None:
    erp, portal, risk = specs["erp.yaml"], specs["portal.yaml"], specs["risk.yaml"]
    assert erp["x-paddock-cloud"] == "azure"
    assert erp["x-paddock-auth"] == {"scheme": "entra", "audience": "api://paddock-erp"}
    assert portal["x-paddock-cloud"] == "aws"
    assert portal["x-paddock-auth"] == {
        "scheme": "aws_sigv4",
        "service": "execute-api",
        "region": "eu-central-1",
    }
    assert risk["x-paddock-cloud"] == "external"
    assert risk["x-paddock-auth"] == {
        "scheme": "api_key",
        "location": "header",
        "param_name": "X-Api-Key",
    }
    assert risk["components"]["securitySchemes"]["apiKey"] == {
        "type": "apiKey",
        "name": "X-Api-Key",
        "in": "header",
    }


def test_operation_ids_are_short_tool_names(specs: dict[str, dict[str, Any]]) -> None:
    seen: list[str] = []
    for name, spec in specs.items():
        ids = {op["operationId"] for _, _, op in operations(spec)}
        assert ids == EXPECTED_OPERATIONS[name]
        seen += ids
    assert len(seen) == len(set(seen))
    assert all(re.fullmatch(r"[a-z][a-z_]{2,39}", op_id) for op_id in seen)


def test_only_the_inbox_is_untrusted(specs: dict[str, dict[str, Any]]) -> None:
    untrusted = {
        op["operationId"]
        for spec in specs.values()
        for _, _, op in operations(spec)
        if op.get("x-paddock-trust") == "untrusted"
    }
    assert untrusted == {"list_supplier_messages"}
    assert all("x-paddock-trust" not in spec for spec in specs.values())


def test_delete_vendor_is_the_one_destructive_call(specs: dict[str, dict[str, Any]]) -> None:
    deletes = [
        op["operationId"]
        for spec in specs.values()
        for method, _, op in operations(spec)
        if method == "delete"
    ]
    assert deletes == ["delete_vendor"]


def _bounded(schema: dict[str, Any], where: str) -> list[str]:
    """Every way an input schema lets unbounded or unknown values through."""
    kind = schema.get("type")
    loose: list[str] = []
    if kind == "object":
        if schema.get("additionalProperties") is not False:
            loose.append(f"{where}: additionalProperties is not false")
        for name, prop in schema.get("properties", {}).items():
            loose += _bounded(prop, f"{where}.{name}")
    elif kind == "array":
        if "maxItems" not in schema:
            loose.append(f"{where}: no maxItems")
        loose += _bounded(schema["items"], f"{where}[]")
    elif kind == "string" and "enum" not in schema and "maxLength" not in schema:
        loose.append(f"{where}: string without maxLength")
    elif kind in ("integer", "number") and not (
        {"minimum", "exclusiveMinimum"} & set(schema) and "maximum" in schema
    ):
        loose.append(f"{where}: number without both bounds")
    return loose


def test_every_input_is_closed_and_bounded(specs: dict[str, dict[str, Any]]) -> None:
    loose: list[str] = []
    for spec in specs.values():
        for _, _, op in operations(spec):
            op = resolve(spec, op)
            for param in op.get("parameters", []):
                loose += _bounded(param["schema"], f"{op['operationId']}:{param['name']}")
            body = op.get("requestBody")
            if body is not None:
                schema = body["content"]["application/json"]["schema"]
                loose += _bounded(schema, f"{op['operationId']}:body")
    assert loose == []


def test_identifier_patterns(specs: dict[str, dict[str, Any]]) -> None:
    erp = resolve(specs["erp.yaml"], specs["erp.yaml"]["components"]["schemas"])
    po = erp["PurchaseOrderRequest"]["properties"]
    assert po["part"]["pattern"] == r"^P-\d{3}$"
    assert po["plant"]["pattern"] == r"^[A-Z]{2}\d{2}$"
    assert po["vendor_id"]["pattern"] == r"^V-\d{4}$"
    assert (po["quantity"]["minimum"], po["quantity"]["maximum"]) == (1, 100000)
    assert po["currency"]["enum"] == ["EUR"]
    assert erp["PurchaseOrderRequest"]["required"] == [
        "part",
        "plant",
        "quantity",
        "vendor_id",
        "unit_price",
        "currency",
    ]


def test_idempotency_key_is_not_a_tool_argument(specs: dict[str, dict[str, Any]]) -> None:
    # The executor sets it; a model must never be asked to invent one.
    for spec in specs.values():
        for _, _, op in operations(spec):
            names = {p["name"].lower() for p in resolve(spec, op).get("parameters", [])}
            assert "idempotency-key" not in names
            assert not names & {"authorization", "x-api-key"}
