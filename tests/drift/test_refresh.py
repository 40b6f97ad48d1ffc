"""The versioned catalog: stored versions, and refresh with non-breaking vs breaking changes."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from paddock.cli.main import main
from paddock.local.servers import LocalServer
from paddock.local.spec_registry import SpecRegistry
from tests.drift.service import SupplierService

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def base_doc() -> dict[str, Any]:
    return copy.deepcopy(SupplierService().document("http://127.0.0.1:9"))


def supplier_schema(doc: dict[str, Any]) -> dict[str, Any]:
    get = doc["paths"]["/suppliers/{name}"]["get"]
    schema: dict[str, Any] = get["responses"]["200"]["content"]["application/json"]["schema"]
    return schema


def order_schema(doc: dict[str, Any]) -> dict[str, Any]:
    post = doc["paths"]["/orders"]["post"]
    schema: dict[str, Any] = post["requestBody"]["content"]["application/json"]["schema"]
    return schema


def write(path: Path, doc: dict[str, Any], version: str) -> None:
    doc["info"]["version"] = version
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")


@pytest.fixture()
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "suppliers.yaml"
    write(path, base_doc(), "1.0")
    return path


@pytest.fixture()
def registry(tmp_path: Path) -> SpecRegistry:
    return SpecRegistry(tmp_path / "catalog", clock=lambda: NOW)


def tool(registry: SpecRegistry, name: str) -> Any:
    return registry.catalog().get(name)


def test_add_stores_version_hash_and_import_time(registry: SpecRegistry, spec: Path) -> None:
    entry = registry.add(str(spec))
    version = entry.latest
    assert (version.title, version.version, version.imported_at) == ("Suppliers", "1.0", NOW)
    assert (registry.root / "specs" / version.sha256).read_bytes() == spec.read_bytes()
    assert registry.add(str(spec)) == entry  # the same content twice is one version
    again = SpecRegistry(registry.root)
    assert [e.source for e in again.list_entries()] == [str(spec)]
    assert tool(again, "getSupplier").spec.sha256 == version.sha256


def test_unchanged_source(registry: SpecRegistry, spec: Path) -> None:
    registry.add(str(spec))
    [outcome] = registry.refresh()
    assert outcome.status == "unchanged" and outcome.changes == []


def test_non_breaking_changes_are_applied(registry: SpecRegistry, spec: Path) -> None:
    registry.add(str(spec))
    doc = base_doc()
    supplier_schema(doc)["properties"]["rating"] = {"type": "integer"}
    order_schema(doc)["properties"]["note"] = {"type": "string"}
    write(spec, doc, "1.1")
    [outcome] = registry.refresh()
    assert outcome.status == "applied" and not outcome.breaking
    assert {c.kind for c in outcome.changes} == {
        "response-property-added",
        "request-property-added",
    }
    assert [v.version for v in registry.list_entries()[0].versions] == ["1.0", "1.1"]
    assert "rating" in str(tool(registry, "getSupplier").responses)
    assert tool(registry, "createOrder").spec.version == "1.1"


def test_breaking_changes_are_held_and_the_rest_applied(registry: SpecRegistry, spec: Path) -> None:
    registry.add(str(spec))
    doc = base_doc()
    schema = supplier_schema(doc)
    schema["properties"]["uuid"] = schema["properties"].pop("ID")
    schema["required"] = ["uuid", "name"]
    order_schema(doc)["properties"]["note"] = {"type": "string"}
    write(spec, doc, "2.0")
    [outcome] = registry.refresh()
    assert outcome.status == "held"
    [removed] = outcome.breaking
    assert removed.location == "response 200 $.ID"
    assert removed.hint == "may be a rename: 'ID' -> 'uuid'"
    held = tool(registry, "getSupplier")
    assert held.spec.version == "1.0" and "'ID'" in str(held.responses)
    assert tool(registry, "createOrder").spec.version == "2.0"
    assert registry.list_entries()[0].held == {
        "GET /suppliers/{name}": registry.list_entries()[0].versions[0].sha256
    }
    [again] = registry.refresh()  # nothing new upstream: still held
    assert again.status == "held" and again.breaking == outcome.breaking
    [accepted] = registry.refresh(accept=True)
    assert accepted.status == "accepted"
    taken = tool(registry, "getSupplier")
    assert taken.spec.version == "2.0" and "uuid" in str(taken.responses)
    assert registry.list_entries()[0].held == {}


def test_a_held_operation_is_released_when_upstream_reverts(
    registry: SpecRegistry, spec: Path
) -> None:
    registry.add(str(spec))
    doc = base_doc()
    order_schema(doc)["required"].append("currency")
    order_schema(doc)["properties"]["currency"] = {"type": "string"}
    write(spec, doc, "2.0")
    assert registry.refresh()[0].status == "held"
    write(spec, base_doc(), "2.1")
    [outcome] = registry.refresh()
    assert outcome.status == "applied"
    assert tool(registry, "createOrder").spec.version == "2.1"


def test_a_removed_operation_stays_until_accepted(registry: SpecRegistry, spec: Path) -> None:
    registry.add(str(spec))
    doc = base_doc()
    del doc["paths"]["/orders"]
    write(spec, doc, "3.0")
    [outcome] = registry.refresh()
    assert [c.kind for c in outcome.breaking] == ["operation-removed"]
    assert "createOrder" in registry.catalog()
    registry.refresh(accept=True)
    assert "createOrder" not in registry.catalog()


def test_refresh_reads_specs_served_over_http(registry: SpecRegistry) -> None:
    service = SupplierService()
    with LocalServer(service.app) as server:
        registry.add(f"{server.url}/openapi.json")
        service.drift_mode = "fail"  # an extension changes; no contract change
        [outcome] = registry.refresh()
    assert outcome.status == "applied" and outcome.changes == []
    assert tool(registry, "getSupplier").drift_mode == "fail"


def cli(*args: str) -> int:
    return main(["catalog", *args])


def test_cli_refresh_exit_codes_and_output(
    tmp_path: Path, spec: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PADDOCK_HOME", str(tmp_path / "home"))
    assert cli("refresh") == 0
    assert "nothing to refresh" in capsys.readouterr().out  # said, not silent
    assert cli("import", str(spec), "--save") == 0
    assert "stored Suppliers 1.0 sha256:" in capsys.readouterr().err
    assert cli("refresh") == 0
    doc = base_doc()
    doc["paths"]["/suppliers/{name}"]["get"]["parameters"].append(
        {"name": "region", "in": "query", "required": True, "schema": {"type": "string"}}
    )
    write(spec, doc, "2.0")
    capsys.readouterr()
    assert cli("refresh") == 1
    out = capsys.readouterr().out
    assert "HELD" in out and "parameter-added-required" in out
    assert "parameter query:region" in out and "--accept" in out
    assert cli("list", "--json") == 0
    [listed] = json.loads(capsys.readouterr().out)
    assert list(listed["held"]) == ["GET /suppliers/{name}"]
    assert cli("refresh", "--accept", "--json") == 0
    [outcome] = json.loads(capsys.readouterr().out)
    assert outcome["status"] == "accepted"
    assert outcome["changes"][0]["kind"] == "parameter-added-required"
    spec.unlink()
    assert cli("refresh") == 2
    assert "spec not found" in capsys.readouterr().out
    assert cli("refresh", str(tmp_path / "other.yaml")) == 2
    assert "not in the stored catalog" in capsys.readouterr().err


def test_concurrent_adds_lose_nothing(tmp_path: Path, registry: SpecRegistry) -> None:
    from concurrent.futures import ThreadPoolExecutor

    paths = []
    for i in range(8):
        path = tmp_path / f"spec{i}.yaml"
        doc = base_doc()
        doc["info"]["title"] = f"Suppliers {i}"
        write(path, doc, "1.0")
        paths.append(str(path))
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda p: SpecRegistry(registry.root).add(p), paths))
    assert sorted(e.source for e in registry.list_entries()) == sorted(paths)
