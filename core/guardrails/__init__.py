"""Guardrails: every proposed call gets a ``Decision`` before anything executes.

``PolicyGuard`` runs the pipeline (schema, entitlement, Cedar business rules, provenance,
confidence); ``load_policy_set`` loads and validates a scenario's policies; ``approvals`` and
``budget`` hold the pure functions the orchestrator uses to pause, resume and stop runs.
"""

from __future__ import annotations

from core.guardrails.approvals import (
    SELF_APPROVAL_FORBIDDEN_TOOLS,
    ApprovalError,
    decide_approval,
    new_approval,
)
from core.guardrails.base import Guard, PassThroughGuard, new_decision_id
from core.guardrails.budget import budget_violation, loop_violation
from core.guardrails.findings import Finding
from core.guardrails.flow_checks import provenance_findings
from core.guardrails.pipeline import PolicyGuard
from core.guardrails.policy_set import PolicySet, load_policy_set
from core.guardrails.provenance import ProvenanceIndex

__all__ = [
    "SELF_APPROVAL_FORBIDDEN_TOOLS",
    "ApprovalError",
    "Finding",
    "Guard",
    "PassThroughGuard",
    "PolicyGuard",
    "PolicySet",
    "ProvenanceIndex",
    "budget_violation",
    "decide_approval",
    "load_policy_set",
    "loop_violation",
    "new_approval",
    "new_decision_id",
    "provenance_findings",
]
