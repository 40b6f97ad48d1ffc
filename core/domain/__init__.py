"""The domain model at the bottom of Paddock: runs, steps, calls, decisions, tools, plans.

Everything else in ``core`` builds on these records; this package imports nothing of Paddock's
but ``core.errors``.
"""

from __future__ import annotations

from core.domain.bindings import (
    Binding,
    BindingBase,
    BodyPart,
    EngineBinding,
    HostedBinding,
    HttpBinding,
    McpBinding,
    Param,
    ParamLocation,
    PythonBinding,
)
from core.domain.canonical import (
    canonical_args_hash,
    canonical_json,
    idempotency_key,
)
from core.domain.plan import (
    Plan,
    ProposedCall,
)
from core.domain.review import (
    CallCounts,
    FailedCall,
    count_calls,
    final_status,
    step_number,
    unresolved_failures,
)
from core.domain.run import (
    Approval,
    ApprovalStatus,
    Budget,
    CallRecord,
    CallStatus,
    ChildRef,
    Decision,
    Grant,
    Run,
    RunStatus,
    Step,
    StepStatus,
    Usage,
    Verdict,
    utcnow,
)
from core.domain.tool import (
    AuthRequirement,
    Location,
    SideEffect,
    SpecRef,
    Tool,
    ToolDefinition,
    Trust,
)

__all__ = [
    "Approval",
    "ApprovalStatus",
    "AuthRequirement",
    "Binding",
    "BindingBase",
    "BodyPart",
    "Budget",
    "CallCounts",
    "CallRecord",
    "CallStatus",
    "ChildRef",
    "Decision",
    "EngineBinding",
    "FailedCall",
    "Grant",
    "HostedBinding",
    "HttpBinding",
    "Location",
    "McpBinding",
    "Param",
    "ParamLocation",
    "Plan",
    "ProposedCall",
    "PythonBinding",
    "Run",
    "RunStatus",
    "SideEffect",
    "SpecRef",
    "Step",
    "StepStatus",
    "Tool",
    "ToolDefinition",
    "Trust",
    "Usage",
    "Verdict",
    "canonical_args_hash",
    "canonical_json",
    "count_calls",
    "final_status",
    "idempotency_key",
    "step_number",
    "unresolved_failures",
    "utcnow",
]
