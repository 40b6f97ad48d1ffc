"""A run records its bundle's name and content hash and resumes with that version; when the
version is gone it says so, naming both, and nothing of the run is lost."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from core.bundles import bundle_hash, load_bundle
from core.bundles.deployed import load_workflows
from core.bundles.start import start_workflow_run
from core.domain import Run, RunStatus
from core.errors import ConfigError
from core.runtime import RunCatalogs
from core.workflows import WorkflowSet
from tests.bundles.procurement import BUNDLE

INPUTS = {"part": "P-1", "quantity": 3}


def _copy(tmp_path: Path, name: str) -> Path:
    root = tmp_path / name
    shutil.copytree(BUNDLE, root)
    return root


def _edit(root: Path) -> None:
    manifest = root / "paddock.yaml"
    manifest.write_text(manifest.read_text().replace("max_steps: 8", "max_steps: 6"))


def test_the_hash_is_the_content(tmp_path: Path) -> None:
    root = _copy(tmp_path, "procurement")
    before = bundle_hash(root)
    assert bundle_hash(_copy(tmp_path, "again")) == before  # folder name is not content
    _edit(root)
    assert bundle_hash(root) != before


def test_a_run_records_the_version_and_its_catalog_follows_it(tmp_path: Path) -> None:
    root = _copy(tmp_path, "procurement")
    workflow = load_bundle(root)
    run = start_workflow_run(Run(id="run_v1", goal=""), workflow, inputs=INPUTS)
    assert (run.scenario, run.workflow_version) == ("procurement", workflow.version)
    assert run.goal == "Order 3 units of part P-1 from supplier S-100"
    assert run.budget.max_steps == 8 and run.grant.side_effects == ["read", "write"]
    catalogs = RunCatalogs(WorkflowSet([workflow]))
    assert "create_purchase_order" in [t.name for t in catalogs(run).tools]


def test_a_run_whose_version_is_gone_says_so_and_is_left_as_it_was(tmp_path: Path) -> None:
    root = _copy(tmp_path, "procurement")
    old = load_bundle(root)
    run = start_workflow_run(Run(id="run_old", goal=""), old, inputs=INPUTS)
    _edit(root)
    new = load_bundle(root)
    with pytest.raises(ConfigError) as caught:
        RunCatalogs(WorkflowSet([new]))(run)
    message = caught.value.message
    assert old.version in message and new.version in message and "run_old" in message
    assert run.status is RunStatus.PENDING


def test_a_kept_version_beside_the_new_one_lets_old_runs_finish(tmp_path: Path) -> None:
    deployed = tmp_path / "workflows"
    deployed.mkdir()
    old_root = _copy(deployed, "procurement.v1")
    old = load_bundle(old_root)
    run = start_workflow_run(Run(id="run_old", goal=""), old, inputs=INPUTS)
    _edit(_copy(deployed, "procurement"))
    workflows = load_workflows(deployed)
    assert workflows["procurement"].version != old.version  # new runs get the new one
    assert workflows.for_run(run) is not None
    assert workflows.for_run(run).version == old.version  # type: ignore[union-attr]


def test_two_folders_of_one_workflow_need_a_current_one(tmp_path: Path) -> None:
    deployed = tmp_path / "workflows"
    deployed.mkdir()
    _copy(deployed, "a")
    _edit(_copy(deployed, "b"))
    with pytest.raises(ConfigError, match="name the current version's folder"):
        load_workflows(deployed)


def test_an_unknown_workflow_is_named() -> None:
    run = Run(id="run_x", goal="", scenario="invoicing", workflow_version="abc")
    with pytest.raises(ConfigError, match="invoicing"):
        WorkflowSet([]).for_run(run)
