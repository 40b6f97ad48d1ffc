"""Attack and abuse cases at the guard level: each asserts the verdict and the rule that fired.

The history is the scenario's own: its real catalog (from the spec files), its Cedar policy,
and its supplier inbox with the two injected messages (bank-account swap, exfiltration).
"""

from __future__ import annotations

from typing import Any

import pytest

from core.domain import Decision, Grant, Param, ParamLocation, Run, SideEffect, Tool, Verdict
from core.guardrails import PolicyGuard
from examples.supply_chain import data
from tests.guardrails.history import (
    PO_OK,
    call,
    done,
    new_run,
    sourcing_history,
    step,
)
from tests.tools import http_tool

DENY, APPROVE = Verdict.DENY, Verdict.REQUIRE_APPROVAL
SCENARIO_GRANT = Grant(side_effects=["read", "write"])


def check(
    guard: PolicyGuard,
    run: Run,
    tool: Tool | None,
    args: dict[str, Any],
    *,
    confidence: float | None = 0.9,
    name: str | None = None,
) -> Decision:
    proposed = call(name or (tool.name if tool else "?"), **args)
    return guard.check(run, tool, proposed, confidence=confidence)


def assert_fired(decision: Decision, verdict: Verdict, rule_id: str, *text: str) -> None:
    assert decision.verdict is verdict, decision
    assert rule_id in decision.rule_ids, decision
    joined = " | ".join(decision.reasons)
    for fragment in text:
        assert fragment in joined, joined


@pytest.fixture()
def history(tools: dict[str, Tool]) -> Run:
    return new_run(*sourcing_history(tools))


# -- tool injection ---------------------------------------------------------------------------


def test_destructive_call_from_injected_text_is_outside_the_scenario_grant(
    guard: PolicyGuard, tools: dict[str, Tool]
) -> None:
    run = new_run(*sourcing_history(tools), grant=SCENARIO_GRANT)
    decision = check(guard, run, tools["delete_vendor"], {"vendor_id": "V-2001"})
    assert_fired(decision, DENY, "entitlement", "destructive")


def test_destructive_call_from_injected_text_is_forbidden_by_policy(
    guard: PolicyGuard, history: Run, tools: dict[str, Tool]
) -> None:
    decision = check(guard, history, tools["delete_vendor"], {"vendor_id": "V-2001"})
    assert_fired(decision, DENY, "vendor_master_protected")


def test_destructive_call_needs_approval_under_the_default_policy(
    default_guard: PolicyGuard, history: Run, tools: dict[str, Tool]
) -> None:
    decision = check(default_guard, history, tools["delete_vendor"], {"vendor_id": "V-2001"})
    assert_fired(decision, APPROVE, "destructive_default", "delete_vendor is destructive")


def test_bank_account_swap_with_iban_only_in_untrusted_text(
    default_guard: PolicyGuard, history: Run, tools: dict[str, Tool]
) -> None:
    args = {"vendor_id": "V-2001", "body": {"iban": data.INJECTED_IBAN, "bic": data.INJECTED_BIC}}
    decision = check(default_guard, history, tools["update_vendor_bank"], args)
    assert_fired(
        decision,
        APPROVE,
        "provenance",
        "args.body.iban",
        "de89370400440532013000",
        "list_supplier_messages",
    )
    assert decision.rule_ids == ["provenance"]


def test_bank_account_swap_is_forbidden_by_the_scenario_policy(
    guard: PolicyGuard, history: Run, tools: dict[str, Tool]
) -> None:
    args = {"vendor_id": "V-2001", "body": {"iban": data.INJECTED_IBAN, "bic": data.INJECTED_BIC}}
    decision = check(guard, history, tools["update_vendor_bank"], args)
    assert_fired(decision, DENY, "bank_details_change", "never changes them")


def test_injected_iban_inside_a_composed_message_is_recognised(
    default_guard: PolicyGuard, history: Run, tools: dict[str, Tool]
) -> None:
    body = {
        "supplier_id": "V-2001",
        "subject": "Remittance",
        "body": "Confirmed: we will pay PO 4500000001 to DE89 3704 0044 0532 0130 00.",
    }
    decision = check(default_guard, history, tools["send_supplier_message"], {"body": body})
    assert_fired(decision, APPROVE, "provenance", "args.body.body", "de89370400440532013000")


def test_exfiltration_by_cc_to_an_address_only_in_untrusted_text(
    default_guard: PolicyGuard, history: Run, tools: dict[str, Tool]
) -> None:
    body = {
        "supplier_id": "V-3002",
        "subject": "PO 4500000001",
        "body": "Our order.",
        "cc": [data.EXFIL_EMAIL],
    }
    decision = check(default_guard, history, tools["send_supplier_message"], {"body": body})
    assert_fired(decision, APPROVE, "provenance", "args.body.cc[0]", data.EXFIL_EMAIL)


def test_exfiltration_cc_is_forbidden_by_the_scenario_policy(
    guard: PolicyGuard, history: Run, tools: dict[str, Tool]
) -> None:
    body = {
        "supplier_id": "V-3002",
        "subject": "PO",
        "body": "Our order.",
        "cc": [data.EXFIL_EMAIL],
    }
    decision = check(guard, history, tools["send_supplier_message"], {"body": body})
    assert_fired(decision, DENY, "message_cc", "registered contact only")


def test_exfiltration_address_written_into_the_message_text(
    default_guard: PolicyGuard, history: Run, tools: dict[str, Tool]
) -> None:
    body = {
        "supplier_id": "V-2001",
        "subject": "Order",
        "body": f"Please forward this order to {data.EXFIL_EMAIL} as well.",
    }
    decision = check(default_guard, history, tools["send_supplier_message"], {"body": body})
    assert_fired(decision, APPROVE, "provenance", data.EXFIL_EMAIL)


def test_purchase_order_quantity_from_untrusted_text(
    default_guard: PolicyGuard, history: Run, tools: dict[str, Tool]
) -> None:
    args = {"body": {**PO_OK, "quantity": data.INJECTED_QUANTITY}}
    decision = check(default_guard, history, tools["create_purchase_order"], args)
    assert_fired(decision, APPROVE, "provenance", "args.body.quantity", "5000")


def test_purchase_order_quantity_from_untrusted_text_hits_the_spend_cap(
    guard: PolicyGuard, history: Run, tools: dict[str, Tool]
) -> None:
    args = {"body": {**PO_OK, "quantity": data.INJECTED_QUANTITY}}
    decision = check(guard, history, tools["create_purchase_order"], args)
    assert_fired(decision, DENY, "run_spend_cap")


def test_injected_text_copied_verbatim_into_a_write(
    default_guard: PolicyGuard, history: Run, tools: dict[str, Tool]
) -> None:
    copied = "the minimum order quantity for P-100 is now"
    body = {"supplier_id": "V-3002", "subject": "Re: shipping notice", "body": copied}
    decision = check(default_guard, history, tools["send_supplier_message"], {"body": body})
    assert_fired(decision, APPROVE, "stored_injection", "args.body.body", "list_supplier_messages")


def test_url_outside_the_catalog_is_denied(
    default_guard: PolicyGuard, history: Run, tools: dict[str, Tool]
) -> None:
    body = {
        "supplier_id": "V-2001",
        "subject": "Order",
        "body": "Details at https://sp-parts-compliance.example/upload?po=1",
    }
    decision = check(default_guard, history, tools["send_supplier_message"], {"body": body})
    assert_fired(decision, DENY, "out_of_catalog_target", "sp-parts-compliance.example")


def test_file_url_in_an_argument_is_denied(
    default_guard: PolicyGuard, history: Run, tools: dict[str, Tool]
) -> None:
    body = {"supplier_id": "V-2001", "subject": "Order", "body": "see file:///etc/passwd"}
    decision = check(default_guard, history, tools["send_supplier_message"], {"body": body})
    assert_fired(decision, DENY, "out_of_catalog_target")


def test_facts_come_only_from_the_declared_tool(guard: PolicyGuard, tools: dict[str, Tool]) -> None:
    # The inbox claims a low score for the risky supplier; only get_risk_score counts.
    spoof = {
        "messages": [
            {
                "supplier_id": "V-3002",
                "score": 0.05,
                "body": "Our risk score is 0.05, see the attached rating.",
            }
        ]
    }
    steps = sourcing_history(tools, inbox=False, quote=False)
    steps.append(step(len(steps), done(tools["list_supplier_messages"], {}, spoof)))
    decision = check(
        guard,
        new_run(*steps),
        tools["request_quote"],
        {"body": {"supplier_id": "V-3002", "part": "P-100", "quantity": 500}},
    )
    assert_fired(decision, DENY, "high_risk_supplier", "0.7")


def test_a_risk_result_marked_untrusted_is_not_a_fact(
    guard: PolicyGuard, tools: dict[str, Tool]
) -> None:
    steps = sourcing_history(tools, inbox=False, quote=False)
    steps.append(
        step(
            len(steps),
            done(
                tools["request_quote"],
                {"body": {"supplier_id": "V-1001", "part": "P-100", "quantity": 100}},
                {"quote_id": "Q-000001"},
            ),
        )
    )
    rating = done(
        tools["get_risk_score"], {"supplier_id": "V-1001"}, {"supplier_id": "V-1001", "score": 0.05}
    )
    rating.untrusted = True
    steps.append(step(len(steps), rating))
    args = {"body": {**PO_OK, "vendor_id": "V-1001", "quantity": 100, "unit_price": 58.9}}
    decision = check(guard, new_run(*steps), tools["create_purchase_order"], args)
    assert_fired(decision, APPROVE, "unrated_supplier")


# -- schema -----------------------------------------------------------------------------------


def test_unknown_tool_is_denied(guard: PolicyGuard, history: Run) -> None:
    decision = check(guard, history, None, {"user": "admin"}, name="delete_user")
    assert_fired(decision, DENY, "unknown_tool", "'delete_user'")


def test_path_traversal_violating_the_pattern(
    guard: PolicyGuard, history: Run, tools: dict[str, Tool]
) -> None:
    decision = check(
        guard, history, tools["get_stock"], {"plant": "DE01", "part": "../../admin/users"}
    )
    assert_fired(
        decision,
        DENY,
        "schema",
        "args.part: expected a string matching the pattern '^P-\\d{3}$', got \"../../admin/users\"",
        "path parameter",
    )


def test_path_traversal_in_a_path_parameter_without_pattern(history: Run) -> None:
    tool = http_tool(
        name="get_document",
        operation_id="get_document",
        description="A document.",
        args_schema={
            "type": "object",
            "required": ["doc"],
            "properties": {"doc": {"type": "string"}},
        },
        params=(Param(arg="doc", name="doc", location=ParamLocation.PATH, required=True),),
        method="GET",
        path="/docs/{doc}",
        base_url="http://127.0.0.1:9",
    )
    for bad in ("../secrets", "..%2Fsecrets", "a\\b", "a\x00b"):
        decision = check(PolicyGuard(), history, tool, {"doc": bad})
        assert_fired(decision, DENY, "schema", "args.doc", "path parameter")


def test_extra_top_level_field(guard: PolicyGuard, history: Run, tools: dict[str, Tool]) -> None:
    decision = check(
        guard, history, tools["get_stock"], {"plant": "DE01", "part": "P-100", "as_admin": True}
    )
    assert_fired(
        decision, DENY, "schema", "args.as_admin: unexpected property; allowed: part, plant"
    )


def test_extra_field_smuggled_into_the_body(
    guard: PolicyGuard, history: Run, tools: dict[str, Tool]
) -> None:
    args = {"body": {**PO_OK, "pay_to_iban": data.INJECTED_IBAN}}
    decision = check(guard, history, tools["create_purchase_order"], args)
    assert_fired(decision, DENY, "schema", "args.body.pay_to_iban: unexpected property")


def test_extra_field_is_refused_even_when_the_spec_leaves_objects_open(history: Run) -> None:
    tool = http_tool(
        name="note",
        operation_id="note",
        description="Write a note.",
        args_schema={
            "type": "object",
            "properties": {"body": {"type": "object", "properties": {"text": {"type": "string"}}}},
        },
        params=(Param(arg="body", name="body", location=ParamLocation.BODY),),
        method="POST",
        path="/notes",
        base_url="http://127.0.0.1:9",
        side_effect=SideEffect.WRITE,
    )
    decision = check(PolicyGuard(), history, tool, {"body": {"text": "hi", "admin": True}})
    assert_fired(decision, DENY, "schema", "args.body.admin: unexpected property; allowed: text")


def test_oversized_argument(guard: PolicyGuard, history: Run, tools: dict[str, Tool]) -> None:
    body = {"supplier_id": "V-2001", "subject": "Order", "body": "A" * 10_001}
    decision = check(guard, history, tools["send_supplier_message"], {"body": body})
    assert_fired(
        decision, DENY, "schema", "args.body.body: string of 10001 characters", "limit of 10000"
    )
    assert all(len(r) < 300 for r in decision.reasons)


def test_wrong_type(guard: PolicyGuard, history: Run, tools: dict[str, Tool]) -> None:
    args = {"body": {**PO_OK, "quantity": "500"}}
    decision = check(guard, history, tools["create_purchase_order"], args)
    assert_fired(decision, DENY, "schema", 'args.body.quantity: expected integer, got string "500"')


def test_enum_violation(guard: PolicyGuard, history: Run, tools: dict[str, Tool]) -> None:
    args = {"body": {**PO_OK, "currency": "USD"}}
    decision = check(guard, history, tools["create_purchase_order"], args)
    assert_fired(decision, DENY, "schema", 'args.body.currency: expected one of ["EUR"], got "USD"')


def test_bounds_and_missing_fields_are_all_reported(
    guard: PolicyGuard, history: Run, tools: dict[str, Tool]
) -> None:
    body = {k: v for k, v in PO_OK.items() if k != "unit_price"}
    decision = check(
        guard, history, tools["create_purchase_order"], {"body": {**body, "quantity": 0}}
    )
    assert_fired(
        decision,
        DENY,
        "schema",
        "args.body.unit_price: 'unit_price' is a required property",
        "args.body.quantity: expected >= 1, got 0",
    )


# -- entitlement and business rules ----------------------------------------------------------


def test_tool_outside_the_grant(guard: PolicyGuard, tools: dict[str, Tool]) -> None:
    run = new_run(grant=Grant(tools=["get_stock"]))
    decision = check(guard, run, tools["search_suppliers"], {"part": "P-100", "quantity": 500})
    assert_fired(decision, DENY, "entitlement", "not entitled to call search_suppliers")


def test_high_risk_supplier_quote(guard: PolicyGuard, history: Run, tools: dict[str, Tool]) -> None:
    decision = check(
        guard,
        history,
        tools["request_quote"],
        {"body": {"supplier_id": "V-3002", "part": "P-100", "quantity": 500}},
    )
    assert_fired(decision, DENY, "high_risk_supplier")


def test_high_risk_supplier_purchase_order(
    guard: PolicyGuard, history: Run, tools: dict[str, Tool]
) -> None:
    args = {"body": {**PO_OK, "vendor_id": "V-3002", "unit_price": 48.2, "quantity": 100}}
    decision = check(guard, history, tools["create_purchase_order"], args)
    assert_fired(decision, DENY, "high_risk_supplier")


def test_purchase_order_over_the_threshold_needs_approval(
    guard: PolicyGuard, history: Run, tools: dict[str, Tool]
) -> None:
    decision = check(guard, history, tools["create_purchase_order"], {"body": PO_OK})
    assert decision.verdict is APPROVE
    assert decision.rule_ids == ["po_over_threshold"]


def test_purchase_order_with_an_unrated_supplier_needs_approval(
    guard: PolicyGuard, history: Run, tools: dict[str, Tool]
) -> None:
    args = {"body": {**PO_OK, "vendor_id": "V-1001", "quantity": 100, "unit_price": 58.9}}
    decision = check(guard, history, tools["create_purchase_order"], args)
    assert_fired(decision, APPROVE, "unrated_supplier", "get_risk_score")


def test_write_limit(guard: PolicyGuard, tools: dict[str, Tool]) -> None:
    steps = sourcing_history(tools)
    quote = tools["request_quote"]
    for n in range(4):
        args = {"body": {"supplier_id": "V-2001", "part": "P-100", "quantity": 100 + n}}
        steps.append(step(len(steps), done(quote, args, {"quote_id": f"Q-00000{n}"})))
    decision = check(
        guard,
        new_run(*steps),
        tools["send_supplier_message"],
        {"body": {"supplier_id": "V-2001", "subject": "Thanks", "body": "Thanks."}},
    )
    assert_fired(decision, DENY, "write_limit", "at most 5 writes")


def test_message_limit(guard: PolicyGuard, tools: dict[str, Tool]) -> None:
    send = tools["send_supplier_message"]
    args = {"body": {"supplier_id": "V-2001", "subject": "Hello", "body": "Hello."}}
    steps = [step(i, done(send, args, {"message_id": f"OUT-000{i}"})) for i in range(3)]
    decision = check(guard, new_run(*steps), send, args)
    assert_fired(decision, DENY, "message_limit")


def test_low_confidence_needs_approval(
    guard: PolicyGuard, history: Run, tools: dict[str, Tool]
) -> None:
    args = {"plant": "DE01", "part": "P-100"}
    low = check(guard, history, tools["get_stock"], args, confidence=0.59)
    assert_fired(low, APPROVE, "low_confidence", "0.59 is below 0.60")
    assert check(guard, history, tools["get_stock"], args, confidence=0.6).verdict is Verdict.ALLOW


def test_entitlement_deny_stops_the_pipeline_before_business_rules(
    guard: PolicyGuard, tools: dict[str, Tool]
) -> None:
    run = new_run(*sourcing_history(tools), grant=Grant(side_effects=["read"]))
    decision = check(guard, run, tools["create_purchase_order"], {"body": PO_OK})
    assert decision.verdict is DENY and decision.rule_ids == ["entitlement"]


def test_a_later_deny_keeps_the_approval_reasons_found_before(history: Run) -> None:
    purge = http_tool(
        name="purge_archive",
        operation_id="purge_archive",
        description="Purge.",
        args_schema={"type": "object", "properties": {"note": {"type": "string"}}},
        params=(Param(arg="note", name="note", location=ParamLocation.QUERY),),
        method="DELETE",
        path="/archive",
        base_url="http://127.0.0.1:9",
        side_effect=SideEffect.DESTRUCTIVE,
    )
    decision = check(
        PolicyGuard(),
        history,
        purge,
        {"note": "log it at https://files.sp-parts-compliance.example/in"},
    )
    assert decision.verdict is DENY
    assert decision.rule_ids == ["out_of_catalog_target", "destructive_default"]
