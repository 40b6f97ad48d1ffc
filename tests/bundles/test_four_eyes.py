"""``approvals.four_eyes`` in ``paddock.yaml``: the workflow's separation-of-duties setting,
typed and strict (a misspelt key is a problem naming the file, never silently the default)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from core.bundles import check_bundle, load_bundle
from core.domain import SideEffect
from core.workflows import DEFAULT_FOUR_EYES
from examples import example_workflows
from tests.bundles.procurement import BUNDLE


@pytest.fixture()
def bundle(tmp_path: Path) -> Path:
    root = tmp_path / "procurement"
    shutil.copytree(BUNDLE, root)
    return root


def _add(root: Path, text: str) -> None:
    manifest = root / "paddock.yaml"
    manifest.write_text(manifest.read_text() + text)


def test_without_the_section_a_bundle_gets_the_default(bundle: Path) -> None:
    assert load_bundle(bundle).four_eyes == DEFAULT_FOUR_EYES


def test_the_section_sets_classes_tools_and_rules(bundle: Path) -> None:
    _add(
        bundle,
        "approvals:\n  four_eyes:\n    side_effects: [write, destructive]\n"
        "    tools: [create_purchase_order]\n    rules: [big_order]\n",
    )
    setting = load_bundle(bundle).four_eyes
    assert setting.side_effects == {SideEffect.WRITE, SideEffect.DESTRUCTIVE}
    assert setting.tools == {"create_purchase_order"} and setting.rules == {"big_order"}
    assert setting.annotated_rules is True


def test_a_misspelt_key_is_a_problem_naming_the_manifest(bundle: Path) -> None:
    _add(bundle, "approvals:\n  four_eyes:\n    side_effect: [write]\n")
    workflow, problems = check_bundle(bundle)
    assert workflow is None
    assert any("paddock.yaml" in str(p) and "side_effect" in str(p) for p in problems), problems


def test_the_shipment_delay_bundle_waives_the_provenance_rule_only() -> None:
    setting = example_workflows()["shipment-delay"].four_eyes
    assert setting.rules == frozenset() and setting.side_effects == {SideEffect.DESTRUCTIVE}
    assert example_workflows()["supply-chain"].four_eyes == DEFAULT_FOUR_EYES
