"""Request and response bodies of the HTTP API: the one definition the OpenAPI document and
both cloud adapters share."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from core.domain import ApprovalStatus, CallCounts, FailedCall, RunStatus, Usage

MAX_BODY_BYTES = 256 * 1024
"""Request bodies above this size are refused with 413 before they are parsed."""
MAX_INPUT_DEPTH = 16
MAX_CHILDREN = 100
"""The most child runs a request may allow one run to spawn."""

LlmChoice = Literal["rules", "openai", "azure-openai", "bedrock", "anthropic"]
HttpUrl = Annotated[str, StringConstraints(pattern=r"^https?://[!-~]+$", max_length=2048)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=128)]
Cursor = Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class ApiModel(BaseModel):
    """Field docstrings become the OpenAPI descriptions (``core.api.openapi`` reads them from
    the source, so requests do not pay for parsing it)."""

    # Schemas are built on first use, not at import: a request pays only for its own models.
    model_config = ConfigDict(defer_build=True)


class Strict(ApiModel):
    """Unknown fields are refused, so a typo never silently changes a request."""

    model_config = ConfigDict(extra="forbid")


# -- requests ---------------------------------------------------------------------------


class BudgetRequest(Strict):
    """Per-run limits; omitted fields keep the server's defaults."""

    max_steps: int | None = Field(default=None, ge=1, le=200)
    max_tool_calls: int | None = Field(default=None, ge=0, le=1000)
    max_tokens: int | None = Field(default=None, ge=1, le=10_000_000)
    max_cost_usd: float | None = Field(default=None, ge=0, le=10_000)
    max_wall_seconds: float | None = Field(default=None, ge=1, le=7 * 86400)


def _start_run_schema(schema: dict[str, Any]) -> None:
    # Exactly one source: a workflow (or its older name, scenario), or a catalog with a goal.
    schema["oneOf"] = [
        {"required": ["workflow"], "properties": {"catalog": {"type": "null"}}},
        {"required": ["scenario"], "properties": {"catalog": {"type": "null"}}},
        {
            "required": ["catalog", "goal"],
            "properties": {
                "catalog": {"type": "array"},
                "goal": {"type": "string"},
                "workflow": {"type": "null"},
                "scenario": {"type": "null"},
            },
        },
    ]


def _too_deep(value: Any, limit: int) -> bool:
    level: list[Any] = [value]
    for _ in range(limit + 1):
        nested: list[Any] = []
        for item in level:
            if isinstance(item, dict):
                nested.extend(item.values())
            elif isinstance(item, list):
                nested.extend(item)
        if not nested:
            return False
        level = nested
    return True


class StartRunRequest(Strict):
    """Start a run of a deployed workflow, or from a goal and a catalog of API specs.

    The tenant is the caller's, from the bearer token; it cannot be chosen here.
    """

    model_config = ConfigDict(extra="forbid", json_schema_extra=_start_run_schema)

    goal: str | None = Field(default=None, min_length=1, max_length=4000)
    """What the agent should achieve (required with `catalog`; a workflow has its own default
    goal, whose `{name}` placeholders are filled from `inputs`)."""
    workflow: Name | None = None
    """A deployed workflow, e.g. `supply-chain` (see `GET /workflows`)."""
    scenario: Name | None = None
    """The older name of `workflow`; give one of them."""
    catalog: list[HttpUrl] | None = Field(default=None, min_length=1, max_length=20)
    """OpenAPI/Swagger documents (https URLs) the run's tools come from."""
    base_urls: dict[Name, HttpUrl] = Field(default_factory=dict, max_length=20)
    """Base URL overrides by spec title."""
    inputs: dict[Name, Any] = Field(default_factory=dict, max_length=50)
    """Trusted operator inputs the planner may use; a workflow checks them against its inputs
    schema."""
    budget: BudgetRequest | None = None
    llm: LlmChoice | None = None
    """The planner: `rules` (offline), `openai`, `azure-openai`, `bedrock` or `anthropic`;
    default per server."""
    max_children: int | None = Field(default=None, ge=0, le=MAX_CHILDREN, strict=True)
    """Child runs this run may spawn in all (`spawn_subtasks`; 0: none); an integer 0-100.
    Omitted: the scenario's allowance, none for a catalog run. A mesh agent's allowance is
    only ever lowered."""

    @field_validator("workflow", "scenario")
    @classmethod
    def _known_workflow(cls, value: str | None, info: ValidationInfo) -> str | None:
        known = (info.context or {}).get("workflows")
        if value is not None and known is not None and value not in known:
            raise ValueError(
                f"unknown workflow {value!r}; choose one of {', '.join(known) or 'none here'}"
            )
        return value

    @field_validator("inputs")
    @classmethod
    def _shallow(cls, value: dict[str, Any]) -> dict[str, Any]:
        if _too_deep(value, MAX_INPUT_DEPTH):
            raise ValueError(f"inputs may nest at most {MAX_INPUT_DEPTH} levels")
        return value

    @model_validator(mode="after")
    def _one_source(self) -> StartRunRequest:
        if self.workflow is not None and self.scenario not in (None, self.workflow):
            raise ValueError("give 'workflow' or its older name 'scenario', not both")
        self.workflow = self.workflow or self.scenario
        self.scenario = self.workflow
        if (self.workflow is None) == (self.catalog is None):
            raise ValueError("give either 'workflow' or 'catalog', not both and not neither")
        if self.catalog is not None and self.goal is None:
            raise ValueError("'goal' is required with 'catalog'")
        return self


class DecisionRequest(Strict):
    """A human's decision on one pending approval."""

    decision: Literal["approve", "reject"]
    comment: str | None = Field(default=None, max_length=2000)
    args_hash: str | None = Field(default=None, min_length=8, max_length=128)
    """The arguments hash the approver saw; when given it must still match the call."""


class CancelRequest(Strict):
    reason: str = Field(default="cancelled via the API", min_length=1, max_length=500)


class KillSwitchRequest(Strict):
    """Raise (or lower) a kill flag: every run in scope stops at its next step."""

    scope: Literal["global", "tenant"]
    tenant: Name | None = None
    """For `scope=tenant`: which tenant (default: the caller's)."""
    reason: str = Field(min_length=1, max_length=500)
    active: bool = True
    """`false` lowers the flag again."""


class RunListQuery(Strict):
    status: RunStatus | None = None
    tenant: Name | None = None
    """Only platform operators may name another tenant than their own; default: the caller's
    tenant (operators: every tenant)."""
    limit: int = Field(default=50, ge=1, le=200)
    """Page size."""
    cursor: Cursor | None = None
    """`next_cursor` from the previous page."""


class ApprovalListQuery(Strict):
    status: Literal["pending"] = "pending"
    """Only pending approvals are listed here; decided ones are on their run."""
    tenant: Name | None = None
    """Only platform operators may name another tenant than their own."""
    limit: int = Field(default=50, ge=1, le=200)
    """At most this many approvals."""


class ToolListQuery(Strict):
    scenario: Name | None = None
    """Only this scenario's tools (default: every bundled scenario)."""


# -- responses --------------------------------------------------------------------------


class RunAccepted(ApiModel):
    run_id: str
    status: RunStatus
    tenant: str
    goal: str
    location: str
    """Where to watch the run: `/runs/{run_id}`."""


class DecisionView(ApiModel):
    verdict: str
    reasons: list[str]
    rule_ids: list[str]


class CallView(ApiModel):
    call_id: str
    tool: str
    args: dict[str, Any]
    cloud: str
    side_effect: str
    status: str
    decision: DecisionView | None
    approval_id: str | None
    executed: bool
    status_code: int | None
    result: Any = None
    result_valid: bool | None
    untrusted: bool
    quarantined: bool
    error: str | None
    drift: list[dict[str, Any]]
    worker: str | None
    started_at: datetime | None
    ended_at: datetime | None


class StepView(ApiModel):
    step: int
    """The step number, 1-based: the same number the CLI, the console and traces show."""
    status: str
    reasoning: str
    confidence: float | None
    planner: str
    model: str | None
    calls: list[CallView]
    final_answer: str | None
    help_request: str | None
    error: str | None
    usage: Usage
    deferrals: int = 0
    """Times in a row the run went back on its queue for lack of budget before this step."""
    deferred_reason: str | None = None
    """Why, the last time (the spent bucket and the tenant's turn, full tenant slots)."""
    started_at: datetime
    ended_at: datetime | None


class ApprovalView(ApiModel):
    id: str
    run_id: str
    tenant: str
    goal: str
    step: int
    """The 1-based number of the step whose call the approval is bound to."""
    call_id: str
    tool: str
    args: dict[str, Any] | None
    """The exact arguments the decision applies to."""
    args_hash: str
    reasons: list[str]
    rule_ids: list[str]
    reasoning: str
    confidence: float | None
    status: ApprovalStatus
    requested_by: str | None
    decided_by: str | None
    comment: str | None
    created_at: datetime
    expires_at: datetime | None
    decided_at: datetime | None


class RunHead(ApiModel):
    run_id: str
    status: RunStatus
    goal: str
    tenant: str
    scenario: str | None
    """The workflow the run was started from (older name, kept for clients)."""
    workflow: str | None
    workflow_version: str | None
    """The content hash of the workflow's bundle the run started (and resumes) with."""
    planner: str
    version: int
    owner: str | None
    step_count: int
    tool_calls: int
    """Calls sent to a service, successful or not (what the budget's ``max_tool_calls``
    counts); ``calls`` says how they ended."""
    calls: CallCounts | None
    """The run's calls by outcome: executed (succeeded), failed, denied, approved, rejected,
    awaiting approval; null in run lists, which do not load the steps."""
    usage: Usage
    requested_by: str | None
    result: str | None
    """The planner's final answer: a claim, checked against the calls (see ``status``)."""
    result_untrusted: list[str] = Field(default_factory=list)
    """What the final answer names that only untrusted text gave, each with its source."""
    reason: str | None
    error: str | None
    created_at: datetime
    updated_at: datetime


class RunView(RunHead):
    """A run with its steps (reasoning, calls, decisions) and its approvals."""

    steps: list[StepView]
    pending_approvals: list[ApprovalView]
    approvals: list[ApprovalView]
    failed_writes: list[FailedCall]
    """Write or destructive calls that failed and were not recovered by a later call of the
    same purpose: why a run is ``needs_review``."""


class RunList(ApiModel):
    runs: list[RunHead]
    next_cursor: str | None


class ApprovalList(ApiModel):
    approvals: list[ApprovalView]


class KillSwitchState(ApiModel):
    scope: str
    """`global` or `tenant:<id>`."""
    active: bool
    reason: str


class WorkflowView(ApiModel):
    name: str
    title: str
    description: str
    version: str
    """The content hash of the deployed bundle."""
    goal: str
    """The default goal (`{name}` placeholders are filled from a run's inputs)."""
    inputs_schema: dict[str, Any] | None
    agent: str | None
    """The agent a run starts as, when the workflow is an agent mesh."""
    side_effects: list[str]
    """What the workflow's grant allows."""


class WorkflowList(ApiModel):
    workflows: list[WorkflowView]


class ToolView(ApiModel):
    name: str
    scenario: str | None
    description: str
    binding: str
    """How calls reach it: `http` (an API operation), `mcp` (an MCP server's tool) or
    `engine` (answered by Paddock itself)."""
    method: str | None
    """The HTTP method (`GET`...); null for tools that are not HTTP operations."""
    path: str | None
    """The HTTP path template; null for tools that are not HTTP operations."""
    location: str
    """`aws`, `azure` or `external`: whose worker calls it."""
    side_effect: str
    trust: str
    deprecated: bool
    args_schema: dict[str, Any]


class ToolList(ApiModel):
    tools: list[ToolView]


class Health(ApiModel):
    status: Literal["ok"]
    cloud: str
    version: str
