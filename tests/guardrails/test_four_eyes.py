"""Separation of duties as the workflow's setting: per tool, per side-effect class, per rule id
(named in the setting or annotated on the rule); the requester never approves those calls."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from core.domain import Run, SideEffect
from core.errors import ConfigError
from core.guardrails.separation import RunFourEyes, WorkflowFourEyes, annotated_rules
from core.workflows import DEFAULT_FOUR_EYES, FourEyes, Workflow
from tests.guardrails.test_approvals import paused


def _reason(setting: FourEyes, tool: str, effect: SideEffect, *rules: str) -> str | None:
    return setting.reason(tool=tool, side_effect=effect, rule_ids=rules)


def test_the_default_covers_destructive_calls_and_untrusted_writes_only() -> None:
    d = DEFAULT_FOUR_EYES
    assert "destructive" in (_reason(d, "delete_vendor", SideEffect.DESTRUCTIVE) or "")
    assert "provenance" in (_reason(d, "update_vendor_bank", SideEffect.WRITE, "provenance") or "")
    assert _reason(d, "create_purchase_order", SideEffect.WRITE, "po_over_threshold") is None
    # a tool the catalog no longer lists counts as destructive
    assert d.reason(tool="gone", side_effect=None, rule_ids=()) is not None


def test_a_workflow_names_tools_classes_and_rules() -> None:
    setting = FourEyes(
        side_effects=frozenset(),
        tools=frozenset({"create_purchase_order"}),
        rules=frozenset({"second_purchase_order"}),
    )
    assert _reason(setting, "delete_vendor", SideEffect.DESTRUCTIVE) is None  # default dropped
    assert "create_purchase_order" in (
        _reason(setting, "create_purchase_order", SideEffect.WRITE) or ""
    )
    assert "second_purchase_order" in (
        _reason(setting, "request_quote", SideEffect.WRITE, "x", "second_purchase_order") or ""
    )
    writes = FourEyes(side_effects=frozenset({SideEffect.WRITE, SideEffect.DESTRUCTIVE}))
    assert "write calls" in (_reason(writes, "request_quote", SideEffect.WRITE) or "")


def test_the_setting_is_typed_and_strict_for_bundle_files() -> None:
    parsed = FourEyes.model_validate({"side_effects": ["write"], "tools": ["a"]})
    assert parsed.side_effects == {SideEffect.WRITE} and parsed.rules == {"provenance"}
    with pytest.raises(ValidationError):
        FourEyes.model_validate({"side_effect": ["write"]})  # a typo is refused, not ignored
    with pytest.raises(ValidationError):
        FourEyes.model_validate({"side_effects": ["delete"]})


POLICY = """
@id("everything")
permit (principal, action in Action::"call", resource);

@id("big_order")
@effect("require_approval")
@four_eyes("required")
forbid (principal, action == Action::"create_purchase_order", resource)
when { context.amount_eur > 25000 };

@id("plain_hold")
@effect("require_approval")
forbid (principal, action == Action::"request_quote", resource);
"""


def test_a_rule_says_so_by_its_annotation(tmp_path: Path) -> None:
    (tmp_path / "rules.cedar").write_text(POLICY)
    assert annotated_rules(tmp_path) == {"big_order"}
    workflow = Workflow(name="wf", goal="g", specs=(), policy_dir=tmp_path)
    setting = WorkflowFourEyes({"wf": workflow})(Run(id="r", goal="g", scenario="wf"))
    _, approval = paused()
    held = approval.model_copy(update={"rule_ids": ["big_order"]})
    assert "big_order" in (setting.reason(held, SideEffect.WRITE) or "")
    plain = approval.model_copy(update={"rule_ids": ["plain_hold"]})
    assert setting.reason(plain, SideEffect.WRITE) is None
    off = Workflow(
        name="wf",
        goal="g",
        specs=(),
        policy_dir=tmp_path,
        four_eyes=FourEyes(annotated_rules=False),
    )
    unmarked = WorkflowFourEyes({"wf": off})(Run(id="r", goal="g", scenario="wf"))
    assert unmarked.reason(held, SideEffect.WRITE) is None
    catalog_run = WorkflowFourEyes({"wf": workflow})(Run(id="r", goal="g"))
    assert catalog_run == RunFourEyes()


def test_a_bad_annotation_value_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "rules.cedar").write_text(POLICY.replace('"required")', '"maybe")'))
    with pytest.raises(ConfigError, match='four_eyes takes "required"'):
        annotated_rules(tmp_path)
