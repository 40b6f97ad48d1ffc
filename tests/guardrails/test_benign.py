"""The benign set: values from the goal, the operator's inputs or trusted records flow into
writes and are allowed; reads of untrusted content are allowed."""

from __future__ import annotations

from typing import Any

from core.domain import CallRecord, CallStatus, Decision, Run, Tool, Verdict
from core.guardrails import PolicyGuard
from examples.supply_chain import data
from tests.guardrails.history import PO_OK, call, done, new_run, sourcing_history, step


def decide(guard: PolicyGuard, run: Run, tool: Tool, args: dict[str, Any]) -> Decision:
    return guard.check(run, tool, call(tool.name, **args), confidence=0.9)


def assert_allowed(decision: Decision) -> None:
    assert decision.verdict is Verdict.ALLOW, decision
    assert decision.rule_ids == [] and decision.reasons == []


def test_the_whole_sourcing_path_is_allowed(guard: PolicyGuard, tools: dict[str, Tool]) -> None:
    empty = new_run()
    assert_allowed(decide(guard, empty, tools["get_stock"], {"plant": "DE01", "part": "P-100"}))
    assert_allowed(
        decide(guard, empty, tools["search_suppliers"], {"part": "P-100", "quantity": 500})
    )
    history = new_run(*sourcing_history(tools, quote=False))
    assert_allowed(
        decide(guard, history, tools["list_supplier_messages"], {"supplier_id": "V-3002"})
    )
    assert_allowed(decide(guard, history, tools["get_risk_score"], {"supplier_id": "V-2001"}))
    # V-2001 is also in the untrusted inbox, but the trusted search result names it too.
    assert_allowed(
        decide(
            guard,
            history,
            tools["request_quote"],
            {"body": {"supplier_id": "V-2001", "part": "P-100", "quantity": 500, "plant": "DE01"}},
        )
    )


def test_a_quoted_order_below_the_threshold_is_allowed(
    guard: PolicyGuard, tools: dict[str, Tool]
) -> None:
    run = new_run(*sourcing_history(tools), goal="Source 400 units of part P-100 for DE01")
    assert_allowed(
        decide(guard, run, tools["create_purchase_order"], {"body": {**PO_OK, "quantity": 400}})
    )


def test_the_scenario_order_pauses_only_for_its_amount(
    guard: PolicyGuard, tools: dict[str, Tool]
) -> None:
    decision = decide(
        guard, new_run(*sourcing_history(tools)), tools["create_purchase_order"], {"body": PO_OK}
    )
    assert decision.verdict is Verdict.REQUIRE_APPROVAL
    assert decision.rule_ids == ["po_over_threshold"]


def test_a_message_built_from_trusted_values_is_allowed(
    guard: PolicyGuard, tools: dict[str, Tool]
) -> None:
    body = {
        "supplier_id": "V-2001",
        "subject": "Order P-100 for DE01",
        "body": "We ordered 500 pcs of P-100 at 61.5 EUR under quote Q-000123.",
        "cc": ["sales@nordic-bearings.example"],
    }
    run = new_run(*sourcing_history(tools), inputs={"cc": "sales@nordic-bearings.example"})
    decision = decide(PolicyGuard(), run, tools["send_supplier_message"], {"body": body})
    assert_allowed(decision)


def test_a_value_the_operator_confirmed_is_trusted_even_if_injected_text_has_it(
    default_guard: PolicyGuard, tools: dict[str, Tool]
) -> None:
    run = new_run(
        *sourcing_history(tools),
        inputs={"new_iban": data.INJECTED_IBAN, "new_bic": data.INJECTED_BIC},
    )
    args = {"vendor_id": "V-2001", "body": {"iban": data.INJECTED_IBAN, "bic": data.INJECTED_BIC}}
    assert_allowed(decide(default_guard, run, tools["update_vendor_bank"], args))


def test_a_human_answer_is_a_trusted_source(
    default_guard: PolicyGuard, tools: dict[str, Tool]
) -> None:
    steps = sourcing_history(tools)
    answer = CallRecord(
        call_id="help-9",
        tool="request_human_help",
        args={"question": "Which quantity?"},
        status=CallStatus.APPROVED,
        result={"human_answer": "order 5000 pcs, the MOQ changed"},
    )
    steps.append(step(len(steps), answer))
    decision = decide(
        default_guard,
        new_run(*steps),
        tools["create_purchase_order"],
        {"body": {**PO_OK, "quantity": 5000}},
    )
    assert_allowed(decision)


def test_trusted_results_feed_writes(default_guard: PolicyGuard, tools: dict[str, Tool]) -> None:
    vendors = {
        "vendors": [
            {"vendor_id": "V-2001", "iban": "SE4550000000058398257466", "bic": "ESSESESSXXX"}
        ]
    }
    steps = [*sourcing_history(tools)]
    steps.append(step(len(steps), done(tools["list_vendors"], {}, vendors)))
    args = {
        "vendor_id": "V-2001",
        "body": {"iban": "SE4550000000058398257466", "bic": "ESSESESSXXX"},
    }
    assert_allowed(decide(default_guard, new_run(*steps), tools["update_vendor_bank"], args))


def test_urls_of_the_catalog_and_of_the_operator_are_allowed(
    default_guard: PolicyGuard, tools: dict[str, Tool]
) -> None:
    run = new_run(goal="Tell V-2001 about https://intranet.acme.example/po-terms")
    for url in (
        "https://portal.paddock.example/quotes/Q-000123",
        "https://intranet.acme.example/po-terms",
    ):
        body = {"supplier_id": "V-2001", "subject": "Order", "body": f"See {url}"}
        assert_allowed(decide(default_guard, run, tools["send_supplier_message"], {"body": body}))


def test_small_numbers_and_enum_values_are_not_attributed(
    default_guard: PolicyGuard, tools: dict[str, Tool]
) -> None:
    inbox = {"messages": [{"body": "Ship 3 pallets, EUR only, plant DE01, quantity 7"}]}
    steps = [step(0, done(tools["list_supplier_messages"], {}, inbox))]
    args = {"body": {**PO_OK, "quantity": 7, "unit_price": 3}}
    # The goal names the amounts; the inbox repeating them is a coincidence, not a source.
    run = new_run(*steps, goal="Order 7 of P-100 at 3 EUR from V-2001 at quote Q-000123 for DE01")
    assert_allowed(decide(default_guard, run, tools["create_purchase_order"], args))
