"""Approvals: bound to one exact call, single-use, expiring, naming and restricting approvers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.domain import (
    Approval,
    ApprovalStatus,
    CallRecord,
    CallStatus,
    Decision,
    Run,
    Step,
    StepStatus,
    Verdict,
    canonical_args_hash,
)
from core.guardrails import ApprovalError, decide_approval, new_approval
from tests.guardrails.history import PO_OK

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DECISION = Decision(
    id="dec_1",
    verdict=Verdict.REQUIRE_APPROVAL,
    reasons=["purchase orders above 25,000 EUR need human approval"],
    rule_ids=["po_over_threshold"],
)


def paused(
    tool: str = "create_purchase_order",
    args: dict[str, object] | None = None,
    *,
    requested_by: str = "alice",
) -> tuple[Run, Approval]:
    """A run paused on one call, with its pending approval issued at T0."""
    record = CallRecord(
        call_id="call-2-0",
        tool=tool,
        args=args or {"body": dict(PO_OK)},
        status=CallStatus.AWAITING_APPROVAL,
        decision=DECISION,
    )
    run = Run(
        id="run_apr",
        goal="Source 500 units of part P-100",
        requested_by=requested_by,
        steps=[
            Step(index=0, status=StepStatus.DONE),
            Step(index=1, status=StepStatus.DONE),
            Step(index=2, status=StepStatus.AWAITING_APPROVAL, calls=[record]),
        ],
    )
    approval = new_approval(
        run, 2, record, DECISION, reasoning="order from V-2001", confidence=0.8, now=T0
    )
    run.approvals.append(approval)
    return run, approval


def test_an_approval_is_bound_to_the_exact_call_and_expires_in_24_hours() -> None:
    _, approval = paused()
    assert approval.args_hash == canonical_args_hash("create_purchase_order", {"body": PO_OK})
    assert (approval.tool, approval.call_id, approval.step_index) == (
        "create_purchase_order",
        "call-2-0",
        2,
    )
    assert approval.rule_ids == ["po_over_threshold"] and approval.reasons == DECISION.reasons
    assert approval.requested_by == "alice" and approval.reasoning == "order from V-2001"
    assert approval.expires_at == T0 + timedelta(hours=24)
    assert approval.status is ApprovalStatus.PENDING and approval.id.startswith("apr_")


def test_a_decision_names_the_approver_and_leaves_the_run_untouched() -> None:
    run, approval = paused()
    decided = decide_approval(
        run,
        approval.id,
        approver="bob",
        approve=True,
        comment="ok",
        now=T0 + timedelta(hours=1),
        args_hash=approval.args_hash,
    )
    assert decided.status is ApprovalStatus.APPROVED
    assert (decided.decided_by, decided.comment) == ("bob", "ok")
    assert decided.decided_at == T0 + timedelta(hours=1)
    assert run.approvals[0].status is ApprovalStatus.PENDING


def test_a_rejection_is_recorded() -> None:
    run, approval = paused()
    decided = decide_approval(run, approval.id, approver="alice", approve=False, now=T0)
    assert decided.status is ApprovalStatus.REJECTED and decided.decided_by == "alice"


def test_a_forged_approval_id_is_refused() -> None:
    run, _ = paused()
    with pytest.raises(ApprovalError, match="never issued"):
        decide_approval(run, "apr_0000000000000000", approver="bob", approve=True, now=T0)


def test_a_replayed_approval_is_refused() -> None:
    run, approval = paused()
    decided = decide_approval(run, approval.id, approver="bob", approve=True, now=T0)
    run.approvals = [decided]
    with pytest.raises(ApprovalError, match=r"already approved by bob.*single-use"):
        decide_approval(run, approval.id, approver="carol", approve=True, now=T0)


def test_an_expired_approval_is_refused() -> None:
    run, approval = paused()
    with pytest.raises(ApprovalError, match="expired"):
        decide_approval(
            run, approval.id, approver="bob", approve=True, now=T0 + timedelta(hours=24)
        )
    run.approvals[0].status = ApprovalStatus.EXPIRED
    with pytest.raises(ApprovalError, match="has expired"):
        decide_approval(run, approval.id, approver="bob", approve=True, now=T0)


def test_an_approval_for_another_call_is_refused() -> None:
    run, approval = paused()
    other = canonical_args_hash("create_purchase_order", {"body": {**PO_OK, "quantity": 5000}})
    with pytest.raises(ApprovalError, match="bound to another call"):
        decide_approval(run, approval.id, approver="bob", approve=True, now=T0, args_hash=other)


def test_an_approval_does_not_cover_a_call_whose_arguments_changed() -> None:
    run, approval = paused()
    run.steps[2].calls[0].args["body"]["quantity"] = 5000
    with pytest.raises(ApprovalError, match="other arguments"):
        decide_approval(run, approval.id, approver="bob", approve=True, now=T0)


def test_an_approval_pointing_at_a_missing_call_is_refused() -> None:
    run, approval = paused()
    run.steps[2].calls[0].call_id = "call-2-9"
    with pytest.raises(ApprovalError, match="does not have"):
        decide_approval(run, approval.id, approver="bob", approve=True, now=T0)


def test_the_requester_may_not_approve_a_call_that_needs_a_second_person() -> None:
    run, approval = paused(requested_by="alice")
    why = "the workflow requires a second person for create_purchase_order"
    with pytest.raises(ApprovalError, match=r"alice requested run run_apr.*second person"):
        decide_approval(run, approval.id, approver="alice", approve=True, now=T0, second_person=why)
    decided = decide_approval(
        run, approval.id, approver="bob", approve=True, now=T0, second_person=why
    )
    assert decided.status is ApprovalStatus.APPROVED


def test_the_requester_may_approve_a_call_that_needs_no_second_person_and_always_reject() -> None:
    run, approval = paused("get_stock", {"plant": "DE01", "part": "P-100"})
    assert (
        decide_approval(run, approval.id, approver="alice", approve=True, now=T0).status
        is ApprovalStatus.APPROVED
    )
    run, approval = paused()
    rejected = decide_approval(
        run, approval.id, approver="alice", approve=False, now=T0, second_person="any reason"
    )
    assert rejected.status is ApprovalStatus.REJECTED


def test_a_restricted_tool_can_require_an_approver_role() -> None:
    run, approval = paused()
    roles_needed = {"create_purchase_order": "purchasing"}
    with pytest.raises(ApprovalError, match="needs the role 'purchasing'"):
        decide_approval(
            run, approval.id, approver="bob", approve=True, now=T0, required_roles=roles_needed
        )
    decided = decide_approval(
        run,
        approval.id,
        approver="bob",
        approve=True,
        now=T0,
        roles=("purchasing",),
        required_roles=roles_needed,
    )
    assert decided.status is ApprovalStatus.APPROVED


def test_an_anonymous_decision_is_refused() -> None:
    run, approval = paused()
    with pytest.raises(ApprovalError, match="must name its approver"):
        decide_approval(run, approval.id, approver=" ", approve=False, now=T0)
