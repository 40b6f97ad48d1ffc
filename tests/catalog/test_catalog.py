"""The Catalog: names unique across specs, lookups, subsets, base URLs, OpenAI export."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from core.catalog import Catalog, to_openai_tools
from core.errors import NotFoundError, SpecError
from tests.catalog.helpers import openapi, write


def _spec(title: str, *op_ids: str, **extra: Any) -> dict[str, Any]:
    paths = {
        f"/{op}": {
            "get": {
                "operationId": op,
                "summary": f"{title} {op}",
                "parameters": [
                    {"name": "q", "in": "query", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {"200": {"description": "ok"}},
            }
        }
        for op in op_ids
    }
    return openapi(paths, title=title, **extra)


@pytest.fixture
def two_specs(tmp_path: Path) -> list[str]:
    return [
        write(tmp_path, _spec("ERP Core", "listVendors", "getStock"), "erp.yaml"),
        write(tmp_path, _spec("Supplier Portal!", "listVendors", "requestQuote"), "portal.yaml"),
    ]


def test_name_collision_across_specs_gets_the_title_slug(two_specs: list[str]) -> None:
    catalog = Catalog.from_sources(two_specs)
    assert catalog.names == [
        "listVendors",
        "getStock",
        "supplier_portal_listVendors",
        "requestQuote",
    ]
    first, second = catalog.get("listVendors"), catalog.get("supplier_portal_listVendors")
    assert first.spec is not None and first.spec.title == "ERP Core"
    assert second.spec is not None and second.spec.title == "Supplier Portal!"
    assert second.binding.operation_id == "listVendors" and second.binding.path == "/listVendors"
    assert any("renamed 'supplier_portal_listVendors'" in w for w in catalog.warnings)


def test_lookups(two_specs: list[str]) -> None:
    catalog = Catalog.from_sources(two_specs)
    assert len(catalog) == 4
    assert "getStock" in catalog and "nope" not in catalog
    assert catalog.find("nope") is None
    assert catalog.find("getStock") is catalog.get("getStock")
    with pytest.raises(NotFoundError, match="nope"):
        catalog.get("nope")
    assert [s.title for s in catalog.specs] == ["ERP Core", "Supplier Portal!"]
    assert [t.name for t in catalog] == catalog.names


def test_subset(two_specs: list[str]) -> None:
    catalog = Catalog.from_sources(two_specs)
    small = catalog.subset(["requestQuote", "supplier_portal_listVendors"])
    assert small.names == ["requestQuote", "supplier_portal_listVendors"]
    assert [s.title for s in small.specs] == ["Supplier Portal!"]
    with pytest.raises(NotFoundError):
        catalog.subset(["getStock", "missing"])


@pytest.mark.parametrize("key", ["source", "ERP Core", "erp_core"])
def test_base_urls_by_source_title_or_slug(two_specs: list[str], key: str) -> None:
    key = two_specs[0] if key == "source" else key
    catalog = Catalog.from_sources(two_specs, base_urls={key: "http://127.0.0.1:8001/"})
    assert catalog.get("getStock").binding.base_url == "http://127.0.0.1:8001"
    assert catalog.get("requestQuote").binding.base_url == "https://api.example.test/v1"


def test_missing_source_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="spec not found"):
        Catalog.from_sources([str(tmp_path / "absent.json")])


def test_the_same_spec_twice_is_added_once(two_specs: list[str]) -> None:
    catalog = Catalog.from_sources([two_specs[0], two_specs[0]])
    assert len(catalog) == 2 and len(catalog.specs) == 1
    assert any("already in the catalog" in w for w in catalog.warnings)


def test_warnings_are_collected_with_tool_names(tmp_path: Path) -> None:
    doc = _spec("Files", "upload")
    doc["paths"]["/upload"]["get"]["parameters"].append(
        {"name": "sid", "in": "querystring", "schema": {"type": "string"}}
    )
    catalog = Catalog.from_sources([write(tmp_path, doc)])
    assert any(w.startswith("upload: ") and "querystring" in w for w in catalog.warnings)


def test_openai_export(two_specs: list[str]) -> None:
    catalog = Catalog.from_sources(two_specs)
    exported = to_openai_tools(catalog.tools)
    assert [t["function"]["name"] for t in exported] == catalog.names
    first = exported[0]
    assert first["type"] == "function"
    assert set(first["function"]) == {"name", "description", "parameters"}
    assert first["function"]["description"] == "ERP Core listVendors"
    params = first["function"]["parameters"]
    assert params == catalog.get("listVendors").args_schema
    Draft202012Validator.check_schema(params)
    assert all(re.fullmatch(r"[a-zA-Z0-9_-]{1,64}", t["function"]["name"]) for t in exported)


def test_openai_export_trims_long_descriptions() -> None:
    doc = _spec("Wordy", "talk")
    doc["paths"]["/talk"]["get"]["description"] = "word " * 1000
    tool = Catalog([*Catalog().add_document(doc)]).get("talk")
    assert len(tool.description) > 4000
    description = to_openai_tools([tool], max_description=200)[0]["function"]["description"]
    assert len(description) <= 200 and description.endswith("…")
    assert to_openai_tools([tool])[0]["function"]["description"].startswith("Wordy talk")
