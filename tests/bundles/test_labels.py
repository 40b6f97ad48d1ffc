"""A vendor's spec is the vendor's word: its ``x-paddock-*`` labels only tighten a tool, the
operator's overlays decide, and ``bundle show`` lists what the overlays did not confirm."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from core.bundles import describe, load_bundle, workflow_catalog
from core.catalog.overlay import apply_overlay
from core.domain import SideEffect, Trust
from core.errors import SpecError
from paddock.cli import main
from tests.bundles.procurement import BUNDLE


@pytest.fixture()
def bundle(tmp_path: Path) -> Path:
    root = tmp_path / "procurement"
    shutil.copytree(BUNDLE, root)
    return root


def _tools(root: Path) -> dict[str, object]:
    return {t.name: t for t in workflow_catalog(load_bundle(root)).tools}


def _vendor(root: Path, path: str, method: str, **labels: str) -> None:
    spec_path = root / "specs" / "procurement.yaml"
    spec = yaml.safe_load(spec_path.read_text())
    spec["paths"][path][method].update(
        {f"x-paddock-{k.replace('_', '-')}": v for k, v in labels.items()}
    )
    spec_path.write_text(yaml.safe_dump(spec))


def test_a_post_the_vendor_labels_read_stays_a_write(bundle: Path) -> None:
    tool = _tools(bundle)["create_purchase_order"]
    assert tool.side_effect is SideEffect.WRITE  # type: ignore[attr-defined]
    assert tool.third_party_text  # type: ignore[attr-defined]


def test_a_vendor_label_that_tightens_is_taken(bundle: Path) -> None:
    _vendor(bundle, "/suppliers", "get", side_effect="destructive", drift="fail")
    _vendor(bundle, "/purchase-orders", "post", trust="untrusted")
    tools = _tools(bundle)
    assert tools["list_suppliers"].side_effect is SideEffect.DESTRUCTIVE  # type: ignore[attr-defined]
    assert tools["list_suppliers"].drift_mode == "fail"  # type: ignore[attr-defined]
    assert tools["create_purchase_order"].trust is Trust.UNTRUSTED  # type: ignore[attr-defined]


def test_the_operators_overlay_decides_over_the_vendor(bundle: Path) -> None:
    # The vendor calls its supplier list untrusted; the operator's overlay says trusted.
    _vendor(bundle, "/suppliers", "get", trust="untrusted", cloud="aws")
    tools = _tools(bundle)
    assert tools["list_suppliers"].trust is Trust.TRUSTED  # type: ignore[attr-defined]
    assert tools["list_suppliers"].location.value == "azure"  # type: ignore[attr-defined]


def test_show_lists_unconfirmed_vendor_labels_and_unset_trust_on_third_party_hosts(
    bundle: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    overlay = bundle / "overlays" / "acme.yaml"
    overlay.write_text(
        overlay.read_text().replace("x-paddock-cloud: azure", "x-paddock-drift: warn")
    )
    assert main(["bundle", "show", str(bundle), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    unconfirmed = {(u["where"], u["label"]) for u in info["unconfirmed_vendor_labels"]}
    assert ("POST /purchase-orders", "x-paddock-side-effect") in unconfirmed
    warned = " ".join(info["warnings"])
    assert "create_purchase_order" in warned and "list_suppliers" not in warned
    assert {r["id"] for r in info["rules"]} == {"catalog_calls", "large_purchase_order"}
    assert main(["bundle", "show", str(bundle)]) == 0
    text = capsys.readouterr().out
    assert "vendor labels the overlays did not confirm" in text and "warning:" in text


def test_an_operator_authored_spec_keeps_its_labels(bundle: Path) -> None:
    manifest = bundle / "paddock.yaml"
    manifest.write_text(
        manifest.read_text() + "catalog:\n  - {source: specs/procurement.yaml, author: operator}\n"
    )
    tool = _tools(bundle)["create_purchase_order"]
    assert tool.side_effect is SideEffect.READ  # type: ignore[attr-defined]
    assert not tool.third_party_text  # type: ignore[attr-defined]
    assert describe(load_bundle(bundle))["unconfirmed_vendor_labels"] == []


DOC = {"openapi": "3.0.3", "paths": {"/a": {"get": {"tags": ["x"]}, "post": {}}, "/b": {"get": {}}}}


def test_overlay_updates_merge_append_and_remove() -> None:
    overlay = {
        "overlay": "1.0.0",
        "actions": [
            {"target": "$.paths.*.get", "update": {"x-paddock-trust": "untrusted"}},
            {"target": "$.paths['/a'].get.tags", "update": "y"},
            {"target": "$.paths['/b']", "remove": True},
        ],
    }
    result = apply_overlay(DOC, overlay)
    assert result["paths"]["/a"]["get"] == {"tags": ["x", "y"], "x-paddock-trust": "untrusted"}
    assert "/b" not in result["paths"]
    assert "/b" in DOC["paths"]  # the input is not changed


@pytest.mark.parametrize(
    ("action", "needle"),
    [
        ({"target": "$.paths['/c'].get", "update": {}}, "matches nothing"),
        ({"target": "$.paths[", "update": {}}, "not valid JSONPath"),
        ({"target": "$.paths['/a'].get.tags[0]", "update": {"k": 1}}, "applies to objects"),
        ({"target": "$.paths['/a']"}, "needs 'update' or 'remove"),
    ],
)
def test_bad_overlay_actions_are_errors(action: dict[str, object], needle: str) -> None:
    with pytest.raises(SpecError, match="action 1") as caught:
        apply_overlay(DOC, {"overlay": "1.0.0", "actions": [action]})
    assert needle in caught.value.message


def test_vendor_descriptions_reach_the_model_marked_as_third_party_text(bundle: Path) -> None:
    from core.catalog.export import VENDOR_TEXT, to_openai_tools

    workflow = load_bundle(bundle)
    sent = {
        t["function"]["name"]: t["function"]
        for t in to_openai_tools(workflow_catalog(workflow).tools)
    }
    suppliers = sent["list_suppliers"]
    assert suppliers["description"].startswith(VENDOR_TEXT)
    assert "ap-audit@evil.example" in suppliers["description"]  # shown, but as the vendor's
    part = suppliers["parameters"]["properties"]["part"]
    assert "description" not in part or part["description"].startswith(VENDOR_TEXT)

    operator = load_bundle(BUNDLE.parents[2].parent / "examples" / "supply_chain")
    own = to_openai_tools(workflow_catalog(operator).tools)
    assert not any(t["function"]["description"].startswith(VENDOR_TEXT) for t in own)
