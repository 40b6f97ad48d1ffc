"""Agent profiles as data: loading, validation with one-line errors, grants, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.catalog import Catalog
from core.errors import ConfigError
from core.mesh import AgentMesh, AgentProfile, WorkflowMeshes, load_mesh, load_profile
from examples import example_workflows, get_example
from paddock.cli.main import main

GOOD = """\
name: scout
title: Scout
domain: Looks things up in the tracking system.
home_cloud: aws
tools: [get_shipment_status]
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipment_delay_mesh_loads_and_matches_its_catalog() -> None:
    scenario = get_example("shipment-delay")
    assert scenario.agents_dir is not None
    mesh = load_mesh(scenario.agents_dir)
    assert set(mesh.profiles) == {"logistics_planning", "carrier_relations", "contracts"}
    assert mesh.get("carrier_relations").home_cloud == "aws"
    assert mesh.get("contracts").home_cloud == "azure"
    catalog = Catalog.from_sources([str(p) for p in scenario.spec_paths()])
    mesh.check_tools([t.name for t in catalog.tools])


def test_a_parent_grant_covers_what_it_delegates_and_leaves_stay_leaves() -> None:
    mesh = WorkflowMeshes(example_workflows().agent_dirs()).for_workflow("shipment-delay")
    assert mesh is not None
    parent = mesh.grant("logistics_planning")
    child = mesh.grant("contracts")
    assert set(child.tools or []) < set(parent.tools or [])
    assert {"ask_contracts", "ask_carrier_relations"} <= set(parent.tools or [])
    assert child.side_effects == ["read"] and child.max_children == 0
    assert parent.max_children > 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (GOOD.replace("name: scout", "name: Scout!"), "name: Value error"),
        (GOOD + "colour: blue\n", "colour: Extra inputs"),
        (GOOD.replace("home_cloud: aws", "home_cloud: gcp"), "home_cloud"),
        (GOOD.replace("tools: [get_shipment_status]", "tools: []"), "tools"),
        ("- just\n- a list\n", "expected a mapping"),
        ("name: [unclosed\n", "cannot read agent profile"),
    ],
)
def test_a_bad_profile_is_one_clear_error(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, "scout", text)
    with pytest.raises(ConfigError, match=r"scout\.yaml") as caught:
        load_profile(path)
    assert message in caught.value.message
    assert "\n" not in caught.value.message


def test_mesh_checks_delegates_cycles_and_owned_tools() -> None:
    base = AgentProfile.model_validate(
        {
            "name": "aa",
            "title": "A",
            "domain": "does a things",
            "home_cloud": "aws",
            "tools": ["get_shipment_status"],
        }
    )
    with pytest.raises(ConfigError, match="unknown agent 'zz'"):
        AgentMesh([base.model_copy(update={"delegates": ("zz",)})])
    with pytest.raises(ConfigError, match="cannot delegate to itself"):
        AgentMesh([base.model_copy(update={"delegates": ("aa",)})])
    b = base.model_copy(update={"name": "bb", "delegates": ("aa",)})
    with pytest.raises(ConfigError, match="delegation cycle"):
        AgentMesh([base.model_copy(update={"delegates": ("bb",)}), b])
    with pytest.raises(ConfigError, match="declared twice"):
        AgentMesh([base, base])
    with pytest.raises(ConfigError, match="not in the catalog: get_shipment_status"):
        AgentMesh([base]).check_tools(["other_tool"])


def test_cli_agents_list_and_show(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["agents", "list"]) == 0
    listing = capsys.readouterr().out
    assert "shipment-delay:" in listing
    assert "logistics_planning" in listing and "delegates to carrier_relations" in listing
    assert main(["agents", "show", "contracts"]) == 0
    shown = capsys.readouterr().out
    assert "home cloud: azure" in shown and "search_contract_clauses" in shown
    assert main(["agents", "show", "carrier_relations", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["home_cloud"] == "aws" and data["grant"]["side_effects"] == ["read"]


def test_cli_unknown_agent_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["agents", "show", "billing"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("paddock: error: no agent 'billing'") and "\n" not in err
