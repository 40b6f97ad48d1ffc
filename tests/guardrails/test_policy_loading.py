"""Policies load only when they parse and validate against the catalog: fail closed."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import cedarpy
import pytest

from core.domain import Tool, Trust, Verdict
from core.errors import ConfigError
from core.guardrails import PolicyGuard, PolicySet, load_policy_set
from core.guardrails.context import build_context
from tests.guardrails.conftest import POLICY_DIR
from tests.guardrails.history import PO_OK, call, new_run, sourcing_history

PERMIT = '@id("all") permit (principal, action, resource);\n'


def load_text(text: str, tools: list[Tool], config: dict[str, Any] | None = None) -> PolicySet:
    return PolicySet.from_text(text, tools, config=config, source="test.cedar")


@pytest.fixture()
def policy_dir(tmp_path: Path) -> Path:
    target = tmp_path / "policy"
    shutil.copytree(POLICY_DIR, target)
    return target


def test_the_scenario_policy_loads_with_its_rule_ids(scenario_policy: PolicySet) -> None:
    ids = [rule.id for rule in scenario_policy.rules.values()]
    assert {"high_risk_supplier", "po_over_threshold", "write_limit"} <= set(ids)
    assert len(ids) == len(set(ids))
    assert 'action "create_purchase_order" in [Action::"write"]' in scenario_policy.schema_text


def test_an_unknown_attribute_refuses_to_load(policy_dir: Path, catalog_tools: list[Tool]) -> None:
    (policy_dir / "extra.cedar").write_text(
        '@id("typo") forbid (principal, action == Action::"create_purchase_order", resource)\n'
        "when { context.args.body.quantiy > 10 };\n"
    )
    with pytest.raises(ConfigError, match=r"refusing to load.*typo.*quantiy"):
        load_policy_set(policy_dir, catalog_tools)


def test_an_unknown_tool_refuses_to_load(catalog_tools: list[Tool]) -> None:
    text = PERMIT + '@id("gone") forbid (principal, action == Action::"pay_invoice", resource);'
    with pytest.raises(ConfigError, match="gone"):
        load_text(text, catalog_tools)


@pytest.mark.parametrize(
    "condition",
    [
        # Cedar types a `has` on an undeclared attribute as false: the forbid could never fire.
        "when { context.facts has credit && context.facts.credit > 1 }",
        "unless { context.args has admin }",
        "when { resource has owner }",
    ],
)
def test_a_test_that_can_never_be_true_refuses_to_load(
    condition: str, catalog_tools: list[Tool]
) -> None:
    text = PERMIT + f'@id("dead") forbid (principal, action, resource) {condition};'
    with pytest.raises(ConfigError, match=r"dead: .* is not an attribute"):
        load_text(text, catalog_tools)


def test_attribute_tests_are_checked_against_the_tools_a_rule_names(
    catalog_tools: list[Tool],
) -> None:
    good = PERMIT + (
        '@id("cc") forbid (principal, action == Action::"send_supplier_message", '
        "resource) when { context.args.body has cc };"
    )
    assert load_text(good, catalog_tools).rules
    wrong_tool = good.replace("send_supplier_message", "request_quote")
    with pytest.raises(ConfigError, match=r"cc: context\.args\.body\.cc"):
        load_text(wrong_tool, catalog_tools)


def test_a_type_error_refuses_to_load(catalog_tools: list[Tool]) -> None:
    # Cedar decimals compare with .greaterThan(), not '>': the validator catches it.
    text = PERMIT + (
        '@id("risk") forbid (principal, action == Action::"request_quote", '
        'resource) when { context.facts.supplier_risk > decimal("0.7") };'
    )
    config = {
        "facts": {
            "supplier_risk": {
                "from_tool": "get_risk_score",
                "key": "supplier_id",
                "value": "score",
                "type": "decimal",
            }
        }
    }
    with pytest.raises(ConfigError, match="risk"):
        load_text(text, catalog_tools, config)


def test_a_syntax_error_refuses_to_load(policy_dir: Path, catalog_tools: list[Tool]) -> None:
    (policy_dir / "broken.cedar").write_text('@id("x") forbid (principal, action, resource')
    with pytest.raises(ConfigError, match=r"broken\.cedar: Cedar syntax error"):
        load_policy_set(policy_dir, catalog_tools)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("permit (principal, action, resource);", "has no @id"),
        (PERMIT + PERMIT, "duplicate @id"),
        ('@id("schema") permit (principal, action, resource);', "reserved"),
        (
            PERMIT + '@id("p") @effect("require_approval") permit (principal, action, resource);',
            "require_approval only on a forbid",
        ),
        (
            PERMIT + '@id("f") @effect("maybe") forbid (principal, action, resource);',
            "@effect must be one of",
        ),
        ("", "no policies"),
    ],
)
def test_badly_annotated_policies_refuse_to_load(
    text: str, message: str, catalog_tools: list[Tool]
) -> None:
    with pytest.raises(ConfigError, match=message):
        load_text(text, catalog_tools)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {
                "facts": {
                    "msg": {
                        "from_tool": "list_supplier_messages",
                        "value": "messages",
                        "type": "string",
                    }
                }
            },
            "untrusted text",
        ),
        (
            {"facts": {"r": {"from_tool": "nope", "value": "score", "type": "decimal"}}},
            "not in the catalog",
        ),
        (
            {"facts": {"r": {"from_tool": "get_risk_score", "value": "score", "type": "float"}}},
            "type must be",
        ),
        (
            {
                "amounts": {
                    "create_purchase_order": {
                        "quantity": "body.quantity",
                        "unit_price": "body.quote_id",
                    }
                }
            },
            "must be a required argument",
        ),
        ({"amounts": {"create_purchase_order": {"total": "body.part"}}}, "must be a number"),
        (
            {"amounts": {"create_purchase_order": {"quantity": "body.quantity"}}},
            "either total, or quantity and unit_price",
        ),
        ({"limits": {}}, "unknown key"),
    ],
)
def test_a_bad_policy_yaml_refuses_to_load(
    config: dict[str, Any], message: str, catalog_tools: list[Tool]
) -> None:
    with pytest.raises(ConfigError, match=message):
        load_text(PERMIT, catalog_tools, config)


def test_missing_paths_refuse_to_load(tmp_path: Path, catalog_tools: list[Tool]) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_policy_set(tmp_path / "nowhere", catalog_tools)
    with pytest.raises(ConfigError, match=r"no \.cedar files"):
        load_policy_set(tmp_path, catalog_tools)


def test_invalid_yaml_refuses_to_load(policy_dir: Path, catalog_tools: list[Tool]) -> None:
    (policy_dir / "policy.yaml").write_text("facts: [unclosed\n")
    with pytest.raises(ConfigError, match="invalid YAML"):
        load_policy_set(policy_dir, catalog_tools)


def test_a_tool_named_like_an_action_group_refuses_to_load(catalog_tools: list[Tool]) -> None:
    clash = catalog_tools[0].model_copy(update={"name": "write"})
    with pytest.raises(ConfigError, match="not one of"):
        load_text(PERMIT, [*catalog_tools, clash])


def test_a_single_cedar_file_loads_with_the_yaml_next_to_it(
    policy_dir: Path, catalog_tools: list[Tool]
) -> None:
    loaded = load_policy_set(policy_dir / "sourcing.cedar", catalog_tools)
    assert [f.name for f in loaded.config.facts] == ["supplier_risk"]


def test_the_digest_follows_the_content(policy_dir: Path, catalog_tools: list[Tool]) -> None:
    before = load_policy_set(policy_dir, catalog_tools).digest
    (policy_dir / "extra.cedar").write_text(
        '@id("no_deletes") forbid (principal, action in Action::"destructive", resource);\n'
    )
    assert load_policy_set(policy_dir, catalog_tools).digest != before


# -- evaluation fails closed ------------------------------------------------------------------


def test_an_evaluation_error_denies_instead_of_skipping_the_forbid(
    catalog_tools: list[Tool], tools: dict[str, Tool]
) -> None:
    text = PERMIT + (
        '@id("overflow") forbid (principal, '
        'action == Action::"create_purchase_order", resource) '
        "when { context.args.body.quantity * 9223372036854775807 > 0 };"
    )
    guard = PolicyGuard(policies=load_text(text, catalog_tools))
    decision = guard.check(
        new_run(),
        tools["create_purchase_order"],
        call("create_purchase_order", body=PO_OK),
        confidence=0.9,
    )
    assert decision.verdict is Verdict.DENY
    assert decision.rule_ids == ["policy_error"]
    assert "overflow" in decision.reasons[0]


def test_nothing_permitted_is_denied(catalog_tools: list[Tool], tools: dict[str, Tool]) -> None:
    text = (
        '@id("reads") permit (principal, action in Action::"read", resource);\n'
        '@id("bank") @effect("require_approval") '
        'forbid (principal, action == Action::"update_vendor_bank", resource);'
    )
    guard = PolicyGuard(policies=load_text(text, catalog_tools))
    run = new_run()
    write = guard.check(
        run,
        tools["request_quote"],
        call("request_quote", body={"supplier_id": "V-2001", "part": "P-100", "quantity": 5}),
    )
    assert write.verdict is Verdict.DENY and write.rule_ids == ["no_permit"]
    bank = guard.check(
        run,
        tools["update_vendor_bank"],
        call(
            "update_vendor_bank",
            vendor_id="V-2001",
            body={"iban": "SE4550000000058398257466", "bic": "ESSESESSXXX"},
        ),
    )
    assert bank.verdict is Verdict.DENY and bank.rule_ids == ["no_permit", "bank"]
    read = guard.check(run, tools["get_stock"], call("get_stock", plant="DE01", part="P-100"))
    assert read.verdict is Verdict.ALLOW


def test_a_tool_outside_the_validated_catalog_is_denied(
    scenario_policy: PolicySet, tools: dict[str, Tool]
) -> None:
    stranger = tools["get_stock"].model_copy(update={"name": "get_stock_v2"})
    guard = PolicyGuard(policies=scenario_policy)
    decision = guard.check(new_run(), stranger, call("get_stock_v2", plant="DE01", part="P-100"))
    assert decision.verdict is Verdict.DENY and decision.rule_ids == ["policy_error"]


def test_destructive_default_can_be_relaxed_by_the_policy_set(
    catalog_tools: list[Tool], tools: dict[str, Tool]
) -> None:
    relaxed = load_text(PERMIT, catalog_tools, {"destructive_requires_approval": False})
    strict = load_text(PERMIT, catalog_tools)
    args = call("delete_vendor", vendor_id="V-1003")
    assert (
        PolicyGuard(policies=relaxed).check(new_run(), tools["delete_vendor"], args).verdict
        is Verdict.ALLOW
    )
    decision = PolicyGuard(policies=strict).check(new_run(), tools["delete_vendor"], args)
    assert decision.rule_ids == ["destructive_default"]


def test_every_context_matches_the_generated_schema(
    scenario_policy: PolicySet, catalog_tools: list[Tool], tools: dict[str, Tool]
) -> None:
    """Contract: the context builder and the schema generator agree, checked by Cedar itself."""
    samples: dict[str, dict[str, Any]] = {
        "get_stock": {"plant": "DE01", "part": "P-100"},
        "list_vendors": {},
        "delete_vendor": {"vendor_id": "V-1001"},
        "update_vendor_bank": {
            "vendor_id": "V-2001",
            "body": {"iban": "SE4550000000058398257466", "bic": "ESSESESSXXX", "reason": "audit"},
        },
        "list_purchase_orders": {"part": "P-100"},
        "create_purchase_order": {"body": PO_OK},
        "search_suppliers": {"part": "P-100", "quantity": 500},
        "request_quote": {"body": {"supplier_id": "V-2001", "part": "P-100", "quantity": 5}},
        "list_supplier_messages": {"supplier_id": "V-2001"},
        "send_supplier_message": {
            "body": {"supplier_id": "V-2001", "subject": "s", "body": "b", "cc": ["a@b.example"]}
        },
        "get_risk_score": {"supplier_id": "V-2001"},
    }
    assert set(samples) == set(tools)
    run = new_run(*sourcing_history(tools), requested_by="alice")
    schema = cedarpy.Schema.from_json_str(json.dumps(scenario_policy.schema_json))
    entities = [
        {
            "uid": {"type": "Tool", "id": name},
            "parents": [],
            "attrs": {"side_effect": "read", "location": "aws", "trust": "trusted"},
        }
        for name in tools
    ]
    for name, args in samples.items():
        context = build_context(
            run,
            tools[name],
            args,
            args_type=scenario_policy._arg_types[name],
            config=scenario_policy.config,
            tool_names=scenario_policy.tool_names,
            confidence=0.75,
        )
        request = {
            "principal": {"type": "Tenant", "id": "t"},
            "action": {"type": "Action", "id": name},
            "resource": {"type": "Tool", "id": name},
            "context": context,
        }
        result = cedarpy.is_authorized(request, PERMIT, entities, schema)
        assert result.allowed, (name, result.diagnostics.errors)
    assert tools["list_supplier_messages"].trust is Trust.UNTRUSTED


# -- each request carries only the context its rules read -----------------------------------


def test_projected_contexts_decide_like_full_ones(
    scenario_policy: PolicySet, tools: dict[str, Tool]
) -> None:
    full = copy.copy(scenario_policy)
    full._needs = dict.fromkeys(scenario_policy.tool_names)  # None: the whole context
    cases: list[tuple[str, dict[str, Any]]] = [
        ("create_purchase_order", {"body": PO_OK}),
        ("create_purchase_order", {"body": {**PO_OK, "quantity": 400}}),
        ("create_purchase_order", {"body": {**PO_OK, "vendor_id": "V-3002"}}),
        ("create_purchase_order", {"body": {k: v for k, v in PO_OK.items() if k != "quote_id"}}),
        ("request_quote", {"body": {"supplier_id": "V-3002", "part": "P-100", "quantity": 5}}),
        (
            "send_supplier_message",
            {"body": {"supplier_id": "V-2001", "subject": "s", "body": "b", "cc": ["a@b.example"]}},
        ),
        ("delete_vendor", {"vendor_id": "V-1001"}),
        ("get_stock", {"plant": "DE01", "part": "P-100"}),
    ]
    histories = [
        new_run(),
        new_run(*sourcing_history(tools)),
        new_run(*sourcing_history(tools, quote=False)),
    ]
    seen: set[str] = set()
    for run in histories:
        for name, args in cases:
            projected = scenario_policy.evaluate(run, tools[name], args, confidence=0.9)
            assert projected == full.evaluate(run, tools[name], args, confidence=0.9)
            seen.update(f.rule_id for f in projected)
    assert {
        "high_risk_supplier",
        "po_over_threshold",
        "unrated_supplier",
        "po_without_quote",
        "vendor_master_protected",
        "message_cc",
    } <= seen


def test_a_rule_reading_a_whole_record_gets_all_of_it(
    catalog_tools: list[Tool], tools: dict[str, Tool]
) -> None:
    nothing_yet = ", ".join(f"{t.name}: 0" for t in catalog_tools)
    text = PERMIT + (
        '@id("first_call") forbid (principal, action == Action::"request_quote", '
        f"resource) when {{ context.run.calls_by_tool == {{{nothing_yet}}} }};"
    )
    policies = load_text(text, catalog_tools)
    args = {"body": {"supplier_id": "V-2001", "part": "P-100", "quantity": 5}}
    assert [f.rule_id for f in policies.evaluate(new_run(), tools["request_quote"], args)] == [
        "first_call"
    ]
    later = new_run(*sourcing_history(tools, quote=False))
    assert policies.evaluate(later, tools["request_quote"], args) == []
