"""Provenance building blocks: token extraction and what counts as a source."""

from __future__ import annotations

from decimal import Decimal

from core.domain import (
    CallRecord,
    CallStatus,
    ProposedCall,
    Run,
    SideEffect,
    Step,
    StepStatus,
    Verdict,
)
from core.guardrails import PolicyGuard, ProvenanceIndex, provenance_findings
from core.guardrails.canonical import atoms, numbers
from tests.tools import http_tool

NOTE = http_tool(
    name="send_note",
    operation_id="send_note",
    description="Send a note.",
    args_schema={
        "type": "object",
        "properties": {
            "to": {"type": "string"},
            "text": {"type": "string"},
            "priority": {"type": "string", "enum": ["urgent", "normal"]},
        },
    },
    params=(),
    method="POST",
    path="/notes",
    base_url="https://notes.example",
    side_effect=SideEffect.WRITE,
)


def run_with(
    untrusted: object,
    *,
    trusted: object = None,
    goal: str = "Answer the supplier",
    quarantined: bool = False,
) -> Run:
    calls = [
        CallRecord(
            call_id="m1",
            tool="read_inbox",
            executed=True,
            status=CallStatus.DONE,
            untrusted=True,
            result=untrusted,
            quarantined=quarantined,
        )
    ]
    if trusted is not None:
        calls.append(
            CallRecord(
                call_id="v1",
                tool="list_vendors",
                executed=True,
                status=CallStatus.DONE,
                result=trusted,
            )
        )
    return Run(id="run_p", goal=goal, steps=[Step(index=3, status=StepStatus.DONE, calls=calls)])


def test_atoms_are_normalised() -> None:
    found = atoms(
        "Pay DE89 3704 0044 0532 0130 00, cc Audit@Evil.Example; "
        "see https://evil.example/x?a=1. Ref PO-2024-17"
    )
    assert {
        "i:de89370400440532013000",
        "e:audit@evil.example",
        "u:https://evil.example/x?a=1",
        "h:evil.example",
        "x:po202417",
    } <= found


def test_numbers_in_text() -> None:
    assert numbers("5000 units at 25,000.50 eur, not v1.2") >= {
        Decimal(5000),
        Decimal("25000.50"),
    }
    assert Decimal("1.2") not in numbers("v1.2")


def test_the_origin_names_the_tool_step_and_call() -> None:
    index = ProvenanceIndex(run_with({"body": "write to x@evil.example"}))
    assert (
        index.tainted("e:x@evil.example") == "the untrusted output of read_inbox (step 3, call m1)"
    )
    assert index.tainted("e:y@evil.example") is None


def test_a_trusted_source_clears_a_value_seen_in_untrusted_text() -> None:
    run = run_with(
        {"body": "write to sales@nordic.example"},
        trusted={"vendors": [{"email": "sales@nordic.example"}]},
    )
    assert provenance_findings(run, NOTE, {"to": "sales@nordic.example"}, allowed_hosts=set()) == []


def test_quarantined_output_is_no_source() -> None:
    run = run_with({"body": "ref INV-88231, write to x@evil.example"}, quarantined=True)
    assert provenance_findings(run, NOTE, {"text": "INV-88231"}, allowed_hosts=set()) == []
    # An address still needs a trusted origin: the withheld text is not one.
    found = provenance_findings(run, NOTE, {"to": "x@evil.example"}, allowed_hosts=set())
    assert [f.rule_id for f in found] == ["provenance"]
    assert "traces to no trusted source" in found[0].reason
    assert "read_inbox" not in found[0].reason


def test_enum_values_are_chosen_from_the_schema_not_copied() -> None:
    run = run_with({"body": "this is urgent"})
    assert provenance_findings(run, NOTE, {"priority": "urgent"}, allowed_hosts=set()) == []


def test_reads_are_not_gated_but_their_urls_are() -> None:
    read = NOTE.model_copy(update={"side_effect": SideEffect.READ})
    run = run_with({"body": "write to x@evil.example, see https://evil.example/a"})
    assert provenance_findings(run, read, {"to": "x@evil.example"}, allowed_hosts=set()) == []
    found = provenance_findings(
        run, read, {"text": "https://evil.example/a"}, allowed_hosts={"notes.example"}
    )
    assert [f.rule_id for f in found] == ["out_of_catalog_target"]
    assert (
        provenance_findings(
            run, read, {"text": "https://notes.example/a"}, allowed_hosts={"notes.example"}
        )
        == []
    )


def test_the_guard_never_reuses_the_index_of_another_history() -> None:
    guard = PolicyGuard()
    note = ProposedCall(id="p", tool="send_note", args={"text": "INV-88231"})
    injected = run_with({"body": "quote ref INV-88231"})
    clean = run_with({"body": "nothing to see"})  # same run id, other history
    assert guard.check(injected, NOTE, note).verdict is Verdict.REQUIRE_APPROVAL
    assert guard.check(clean, NOTE, note).verdict is Verdict.ALLOW
    clean.steps[0].calls[0].result = {"body": "now quote ref INV-88231"}
    assert guard.check(clean, NOTE, note).verdict is Verdict.REQUIRE_APPROVAL
