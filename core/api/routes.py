"""The route table: every operation of the API, once. Adapters, the router and the OpenAPI
document all read it."""

from __future__ import annotations

from core.api.auth import ROLE_ADMIN, ROLE_APPROVER
from core.api.models import (
    ApprovalList,
    ApprovalListQuery,
    CancelRequest,
    DecisionRequest,
    Health,
    KillSwitchRequest,
    KillSwitchState,
    RunAccepted,
    RunList,
    RunListQuery,
    RunView,
    StartRunRequest,
    ToolList,
    ToolListQuery,
    WorkflowList,
)
from core.api.paths import BY_ID
from core.api.router import Route, Router
from core.api.service import ApiService

IDEMPOTENCY_HEADER = (
    "Idempotency-Key",
    "Any unique string (1-255 printable ASCII characters): a retried "
    "request with the same key and body returns the same run.",
)


def _op(operation_id: str) -> tuple[str, str, str]:
    op = BY_ID[operation_id]
    return op.method, op.path, op.operation_id


ROUTES: tuple[Route[ApiService], ...] = (
    Route(
        *_op("startRun"),
        ApiService.start_run,
        "Start a run",
        RunAccepted,
        status=202,
        body=StartRunRequest,
        headers=(IDEMPOTENCY_HEADER,),
        errors=(409,),
        description="Stores the run (status `pending`) and enqueues it; workers advance "
        "it. The tenant is the caller's, from the token.",
    ),
    Route(
        *_op("listRuns"),
        ApiService.list_runs,
        "List runs, newest first",
        RunList,
        query=RunListQuery,
        errors=(403,),
    ),
    Route(
        *_op("getRun"),
        ApiService.get_run,
        "A run: status, steps, calls and decisions, approvals, usage",
        RunView,
        errors=(403, 404),
    ),
    Route(
        *_op("cancelRun"),
        ApiService.cancel_run,
        "Stop a run at its next step",
        RunView,
        body=CancelRequest,
        body_required=False,
        errors=(403, 404, 409),
    ),
    Route(
        *_op("listApprovals"),
        ApiService.list_approvals,
        "Pending approvals, newest first",
        ApprovalList,
        query=ApprovalListQuery,
        errors=(403,),
    ),
    Route(
        *_op("decideApproval"),
        ApiService.decide,
        "Approve or reject one pending call",
        RunView,
        body=DecisionRequest,
        roles=(ROLE_APPROVER,),
        errors=(403, 404, 409),
        description="The run is enqueued to continue.",
    ),
    Route(
        *_op("killSwitch"),
        ApiService.kill_switch,
        "Raise or lower the global or a tenant's kill flag",
        KillSwitchState,
        body=KillSwitchRequest,
        roles=(ROLE_ADMIN,),
        errors=(403,),
    ),
    Route(
        *_op("listWorkflows"),
        ApiService.list_workflows,
        "The workflows deployed here",
        WorkflowList,
        description="Each with its version (the bundle's content hash), default goal and "
        'inputs schema: what `POST /runs {"workflow": NAME}` starts.',
    ),
    Route(
        *_op("listTools"),
        ApiService.list_tools,
        "Tools of the deployed workflows' catalogs",
        ToolList,
        query=ToolListQuery,
        errors=(404,),
    ),
    Route(*_op("health"), ApiService.health, "Liveness", Health, auth=False),
    Route(*_op("openapi"), ApiService.openapi, "This document (OpenAPI 3.1)", None, auth=False),
)

ROUTER: Router[ApiService] = Router(ROUTES)
