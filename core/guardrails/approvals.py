"""Human approvals: issue one bound to an exact call, decide it once. Pure functions.

The orchestrator persists what these return. An approval is bound to the tool and the
canonical hash of its arguments, is single-use, expires, names its approver, and can be
restricted: the requester of a run may not approve a call that needs a second person (the
workflow's four-eyes setting says which, ``core.guardrails.separation``), and a tool may require
an approver role.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from datetime import datetime, timedelta

from core.domain import (
    Approval,
    ApprovalStatus,
    CallRecord,
    Decision,
    Run,
    canonical_args_hash,
    step_number,
    utcnow,
)
from core.errors import PaddockError

DEFAULT_TTL = timedelta(hours=24)


class ApprovalError(PaddockError):
    """An approval decision that must not be applied: forged, replayed, expired, mismatched
    or not allowed for this approver."""


def new_approval_id() -> str:
    return "apr_" + uuid.uuid4().hex[:16]


def new_approval(
    run: Run,
    step_index: int,
    call: CallRecord,
    decision: Decision,
    *,
    reasoning: str,
    confidence: float | None,
    ttl: timedelta = DEFAULT_TTL,
    now: datetime | None = None,
) -> Approval:
    """A pending approval for ``call``, bound to its tool and canonical arguments."""
    created = now or utcnow()
    return Approval(
        id=new_approval_id(),
        run_id=run.id,
        step_index=step_index,
        call_id=call.call_id,
        tool=call.tool,
        args_hash=canonical_args_hash(call.tool, call.args),
        reasons=list(decision.reasons),
        rule_ids=list(decision.rule_ids),
        reasoning=reasoning,
        confidence=confidence,
        requested_by=run.requested_by,
        created_at=created,
        expires_at=created + ttl,
    )


def decide_approval(
    run: Run,
    approval_id: str,
    *,
    approver: str,
    approve: bool,
    comment: str | None = None,
    now: datetime | None = None,
    args_hash: str | None = None,
    roles: Collection[str] = (),
    second_person: str | None = None,
    required_roles: Mapping[str, str] | None = None,
) -> Approval:
    """The approval with the human's decision applied (a new object; ``run`` is untouched).

    Args:
        args_hash: when given, the hash of the call the approver saw; it must match.
        roles: the approver's roles, checked against ``required_roles`` (tool -> role).
        second_person: why the call needs someone other than the run's requester to
            approve it (``None``: the requester may approve it).

    Raises:
        ApprovalError: unknown id, already decided, expired, bound to another call, or the
            approver may not decide it.
    """
    now = now or utcnow()
    approval = next((a for a in run.approvals if a.id == approval_id), None)
    if approval is None:
        raise ApprovalError(f"approval {approval_id!r} was never issued for run {run.id}")
    _check_pending(approval, now)
    _check_binding(run, approval, args_hash)
    _check_approver(
        run,
        approval,
        approver=approver,
        approve=approve,
        roles=roles,
        second_person=second_person,
        required=required_roles or {},
    )
    status = ApprovalStatus.APPROVED if approve else ApprovalStatus.REJECTED
    return approval.model_copy(
        update={"status": status, "decided_by": approver, "decided_at": now, "comment": comment}
    )


def _check_pending(approval: Approval, now: datetime) -> None:
    if approval.status is ApprovalStatus.EXPIRED:
        raise ApprovalError(f"approval {approval.id} has expired")
    if approval.status is not ApprovalStatus.PENDING:
        when = approval.decided_at.isoformat() if approval.decided_at else "earlier"
        raise ApprovalError(
            f"approval {approval.id} was already {approval.status.value} by "
            f"{approval.decided_by} at {when}; approvals are single-use"
        )
    if approval.expires_at is not None and now >= approval.expires_at:
        raise ApprovalError(f"approval {approval.id} expired at {approval.expires_at.isoformat()}")


def _check_binding(run: Run, approval: Approval, args_hash: str | None) -> None:
    if args_hash is not None and args_hash != approval.args_hash:
        raise ApprovalError(
            f"approval {approval.id} is bound to another call "
            f"(arguments hash {approval.args_hash[:12]}..., "
            f"not {args_hash[:12]}...)"
        )
    steps = [s for s in run.steps if s.index == approval.step_index]
    call = next((c for s in steps for c in s.calls if c.call_id == approval.call_id), None)
    if call is None or call.tool != approval.tool:
        raise ApprovalError(
            f"approval {approval.id} names call {approval.call_id} of step "
            f"{step_number(approval.step_index)}, which this run does not have"
        )
    if canonical_args_hash(call.tool, call.args) != approval.args_hash:
        raise ApprovalError(
            f"approval {approval.id} is bound to other arguments than call "
            f"{call.call_id} now has; it cannot approve the changed call"
        )


def _check_approver(
    run: Run,
    approval: Approval,
    *,
    approver: str,
    approve: bool,
    roles: Collection[str],
    second_person: str | None,
    required: Mapping[str, str],
) -> None:
    if not approver.strip():
        raise ApprovalError("an approval decision must name its approver")
    if not approve:
        return  # anyone who may see the run may stop a call
    requester = run.requested_by or approval.requested_by
    if second_person is not None and requester is not None and approver == requester:
        raise ApprovalError(
            f"{approver} requested run {run.id} and may not approve its own "
            f"{approval.tool} call ({second_person}); another approver must decide"
        )
    role = required.get(approval.tool)
    if role is not None and role not in roles:
        raise ApprovalError(
            f"approving {approval.tool} needs the role {role!r}, which {approver} does not have"
        )
