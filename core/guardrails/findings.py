"""Findings: what one stage of the pipeline found, folded into one ``Decision``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from core.domain import Decision, Verdict
from core.guardrails.base import new_decision_id


@dataclass(frozen=True)
class Finding:
    """One rule that fired: ``DENY`` or ``REQUIRE_APPROVAL``, its rule id and a message.

    The message is shown to the planner when the call is not allowed, so it says what is
    wrong in terms the model can act on.
    """

    verdict: Verdict
    rule_id: str
    reason: str


def deny(rule_id: str, reason: str) -> Finding:
    return Finding(Verdict.DENY, rule_id, reason)


def needs_approval(rule_id: str, reason: str) -> Finding:
    return Finding(Verdict.REQUIRE_APPROVAL, rule_id, reason)


def has_deny(findings: Iterable[Finding]) -> bool:
    return any(f.verdict is Verdict.DENY for f in findings)


def fold(findings: list[Finding]) -> Decision:
    """Deny beats approval beats allow; every reason and rule id is kept, deny ones first."""
    if has_deny(findings):
        verdict = Verdict.DENY
    elif findings:
        verdict = Verdict.REQUIRE_APPROVAL
    else:
        verdict = Verdict.ALLOW
    ordered = sorted(findings, key=lambda f: f.verdict is not Verdict.DENY)
    rule_ids: list[str] = []
    for finding in ordered:
        if finding.rule_id not in rule_ids:
            rule_ids.append(finding.rule_id)
    return Decision(
        id=new_decision_id(),
        verdict=verdict,
        reasons=[f.reason for f in ordered],
        rule_ids=rule_ids,
    )
