"""A deployment loads its bundles from ``PADDOCK_WORKFLOWS_DIR`` at cold start: every API
process and worker the same way; an invalid bundle fails the start, never softened."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from core.api.deps import Deps
from core.bundles import BundleError
from core.bundles.start import start_workflow_run
from core.domain import Run
from core.errors import ConfigError
from core.settings import Settings
from tests.bundles.procurement import BUNDLE


def _deployed(tmp_path: Path) -> Path:
    root = tmp_path / "workflows"
    root.mkdir()
    shutil.copytree(BUNDLE, root / "procurement")
    return root


def test_the_api_and_workers_load_the_deployed_bundles(tmp_path: Path) -> None:
    deps = Deps(Settings.from_env({"PADDOCK_WORKFLOWS_DIR": str(_deployed(tmp_path))}))
    assert deps.workflows.names() == ["procurement"]
    run = start_workflow_run(
        Run(id="run_d", goal=""), deps.workflows["procurement"], inputs={"part": "P", "quantity": 1}
    )
    tools = {t.name: t for t in deps.catalogs(run).tools}
    assert set(tools) == {"list_suppliers", "create_purchase_order", "delete_purchase_order"}
    assert tools["create_purchase_order"].location.value == "azure"  # the overlay applied


def test_one_bundle_folder_is_a_deployment_too() -> None:
    deps = Deps(Settings.from_env({"PADDOCK_WORKFLOWS_DIR": str(BUNDLE)}))
    assert deps.workflows.names() == ["procurement"]


def test_an_invalid_bundle_fails_the_cold_start(tmp_path: Path) -> None:
    root = _deployed(tmp_path)
    (root / "procurement" / "policy" / "orders.cedar").write_text("permit (principal, ")
    with pytest.raises(BundleError) as caught:
        Deps(Settings.from_env({"PADDOCK_WORKFLOWS_DIR": str(root)}))
    assert "policy/orders.cedar" in caught.value.message


def test_a_missing_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="nowhere"):
        Deps(Settings.from_env({"PADDOCK_WORKFLOWS_DIR": str(tmp_path / "nowhere")}))
