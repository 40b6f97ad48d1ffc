"""The durable records of a run: a small head plus one record per step."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field, PrivateAttr


def utcnow() -> datetime:
    return datetime.now(UTC)


class RunStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    AWAITING_APPROVAL = "awaiting_approval"
    WAITING = "waiting"
    """Waiting for its child runs; woken (re-enqueued) when they finish."""
    SUCCEEDED = "succeeded"
    """The planner finished and no write or destructive call is left failed."""
    NEEDS_REVIEW = "needs_review"
    """The planner finished, but a write or destructive call failed and was not recovered
    (``core.domain.review``): a person must check before anyone trusts the result."""
    FAILED = "failed"
    KILLED = "killed"

    @property
    def finished(self) -> bool:
        return self in _FINISHED


_FINISHED = frozenset(
    {RunStatus.SUCCEEDED, RunStatus.NEEDS_REVIEW, RunStatus.FAILED, RunStatus.KILLED}
)


class Verdict(StrEnum):
    ALLOW = "allow"
    DENY = "deny"
    REQUIRE_APPROVAL = "require_approval"


class Decision(BaseModel):
    """A guardrail verdict on one proposed call: data, never an exception."""

    id: str
    verdict: Verdict
    reasons: list[str] = Field(default_factory=list)
    rule_ids: list[str] = Field(default_factory=list)


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0

    def add(self, other: Usage) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            cost_usd=round(self.cost_usd + other.cost_usd, 8),
        )

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class Budget(BaseModel):
    """Per-run limits; ``None`` means no limit of that kind."""

    max_steps: int = 25
    max_tool_calls: int | None = 100
    max_tokens: int | None = None
    max_cost_usd: float | None = None
    max_wall_seconds: float | None = None
    max_repeats: int = 3
    """The same call with the same arguments this many times stops the run (loop detection)."""
    max_idle_steps: int = 5
    """This many steps in a row without new information stop the run."""
    max_running_children: int = 10
    """Child runs of this run that may be in flight at once; the rest wait their turn."""


class Grant(BaseModel):
    """What a run may use: the upper bound of every decision and credential."""

    tools: list[str] | None = None
    """Tool names the run may call; ``None`` allows every tool in its catalog."""
    side_effects: list[str] = Field(default_factory=lambda: ["read", "write", "destructive"])
    max_children: int = Field(default=0, ge=0)
    """Child runs this run may spawn in all (0: none). A child's own allowance is always
    smaller than its parent's, so delegation cannot recurse without end."""


class CallStatus(StrEnum):
    PROPOSED = "proposed"
    DENIED = "denied"
    AWAITING_APPROVAL = "awaiting_approval"
    REJECTED = "rejected"
    APPROVED = "approved"
    EXECUTING = "executing"
    DONE = "done"
    ERROR = "error"


class CallRecord(BaseModel):
    """One proposed tool call, its decision, and what came of it."""

    call_id: str
    tool: str
    args: dict[str, Any] = Field(default_factory=dict)
    cloud: str = "external"
    side_effect: str = "read"
    status: CallStatus = CallStatus.PROPOSED
    decision: Decision | None = None
    approval_id: str | None = None
    idempotency_key: str | None = None
    executed: bool = False
    status_code: int | None = None
    result: Any = None
    result_valid: bool | None = None
    untrusted: bool = False
    """The result is text from an untrusted source (``x-paddock-trust: untrusted``)."""
    error: str | None = None
    drift: list[dict[str, Any]] = Field(default_factory=list)
    quarantined: bool = False
    """The response drifted from its schema and is withheld from the planner until a human
    accepts it."""
    spec_version: str | None = None
    worker: str | None = None
    """Which cloud's worker executed the call."""
    capability: dict[str, Any] | None = None
    """Claims of the capability token the call was executed with (who, what, which
    arguments hash, decision and credential scope); never the token or a secret."""
    started_at: datetime | None = None
    claimed_at: datetime | None = None
    """When a worker last claimed the call for execution; the claim is a lease."""
    deferred: int = 0
    """Times the call was put back for later (429/503 with Retry-After) instead of failing."""
    ended_at: datetime | None = None
    _memo: dict[str, str] = PrivateAttr(default_factory=dict)
    """Derived texts the loop checks recompute every step (``core.guardrails.budget``)."""


class StepStatus(StrEnum):
    PLANNED = "planned"
    AWAITING_APPROVAL = "awaiting_approval"
    EXECUTING = "executing"
    DONE = "done"


class Step(BaseModel):
    """One turn of the loop: the planner's thinking and the calls it proposed."""

    index: int
    """0-based position in ``run.steps``; people see ``number`` (1-based) everywhere."""
    status: StepStatus = StepStatus.PLANNED
    reasoning: str = ""
    confidence: float | None = None
    planner: str = ""
    model: str | None = None
    calls: list[CallRecord] = Field(default_factory=list)
    final_answer: str | None = None
    help_request: str | None = None
    error: str | None = None
    usage: Usage = Field(default_factory=Usage)
    deferrals: int = 0
    """Times in a row the run went back on its queue for lack of budget (the shared model or
    tool limits were spent, the tenant's slots were full) before this step was planned."""
    deferred_reason: str | None = None
    """Why, the last time."""
    started_at: datetime = Field(default_factory=utcnow)
    ended_at: datetime | None = None

    @property
    def number(self) -> int:
        """The step number every view shows: 1-based."""
        return self.index + 1


class ApprovalStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"


class Approval(BaseModel):
    """A human decision bound to one exact call (tool + canonical arguments hash)."""

    id: str
    run_id: str
    step_index: int
    call_id: str
    tool: str
    args_hash: str
    reasons: list[str] = Field(default_factory=list)
    rule_ids: list[str] = Field(default_factory=list)
    reasoning: str = ""
    confidence: float | None = None
    status: ApprovalStatus = ApprovalStatus.PENDING
    requested_by: str | None = None
    decided_by: str | None = None
    comment: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime | None = None
    decided_at: datetime | None = None


class ChildRef(BaseModel):
    """A parent's record of one child run (see ``core.orchestrator.children``)."""

    id: str
    step_index: int
    call_id: str
    """The parent's call this child answers."""
    goal: str
    cloud: str = "local"
    """The cloud whose queue the child was sent to."""
    launched: bool = False
    """Sent to a queue (children beyond the concurrency cap wait unlaunched)."""
    status: RunStatus = RunStatus.PENDING
    result: str | None = None
    error: str | None = None
    usage: Usage = Field(default_factory=Usage)
    tool_calls: int = 0
    untrusted: bool = False
    """The child read text from an untrusted source on its way to its result."""


class Run(BaseModel):
    """A run's head: small, rewritten on each checkpoint; steps are separate records."""

    id: str
    goal: str
    tenant: str = "default"
    requested_by: str | None = None
    status: RunStatus = RunStatus.PENDING
    version: int = 0
    """Bumped by every checkpoint; the optimistic-concurrency token."""
    catalog: list[str] = Field(default_factory=list)
    """Spec sources (paths or URLs) the run's tools come from."""
    base_urls: dict[str, str] = Field(default_factory=dict)
    """Base URL overrides by spec title (local services, staging endpoints)."""
    scenario: str | None = None
    """The workflow the run was started from (``POST /runs {"workflow": ...}``), if any."""
    workflow_version: str | None = None
    """The content hash of that workflow's bundle: the run resumes with this version."""
    workflow_source: str | None = None
    """The bundle folder it was loaded from (local tools reload a bundle from here)."""
    agent: str | None = None
    """The agent profile the run acts as (``core.mesh``): its tools, home cloud and grant."""
    inputs: dict[str, Any] = Field(default_factory=dict)
    planner: str = "rules"
    budget: Budget = Field(default_factory=Budget)
    grant: Grant = Field(default_factory=Grant)
    usage: Usage = Field(default_factory=Usage)
    tool_calls: int = 0
    step_count: int = 0
    approvals: list[Approval] = Field(default_factory=list)
    """Approvals of the current pause (and a bounded history of decided ones)."""
    result: str | None = None
    result_untrusted: list[str] = Field(default_factory=list)
    """What the final answer names that only untrusted text gave, each with its source
    (``core.guardrails.answers``): an injected recommendation is never the agent's own."""
    error: str | None = None
    reason: str | None = None
    """Why the run stopped, when it did not simply succeed (budget, kill, loop...)."""
    parent_id: str | None = None
    children: list[ChildRef] = Field(default_factory=list)
    """Child runs spawned by this run, in spawn order."""
    owner: str | None = None
    """The cloud whose worker owns the run now (``aws``, ``azure`` or ``local``)."""
    planner_deferrals: int = 0
    """Times in a row the model answered 429/5xx with Retry-After and the run was put back."""
    handoffs: int = 0
    """How many times the run moved to another cloud's store (``core.orchestrator.replica``);
    a copy with a higher count is the newer one."""
    traceparent: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    steps: list[Step] = Field(default_factory=list)
    """Loaded alongside the head; stored as separate records by every backend."""

    def head(self) -> dict[str, Any]:
        """The head without the steps, as JSON-ready data."""
        return self.model_dump(mode="json", exclude={"steps"})

    @property
    def pending_approvals(self) -> list[Approval]:
        return [a for a in self.approvals if a.status is ApprovalStatus.PENDING]
