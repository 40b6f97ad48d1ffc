"""The API's operations as plain data: method, path template, operation id.

The cloud adapters register their routes from this at import time, so it imports nothing;
``core.api.routes`` attaches models and behaviour to the same entries.
"""

from __future__ import annotations

from typing import NamedTuple


class Operation(NamedTuple):
    method: str
    path: str
    operation_id: str


OPERATIONS: tuple[Operation, ...] = (
    Operation("POST", "/runs", "startRun"),
    Operation("GET", "/runs", "listRuns"),
    Operation("GET", "/runs/{run_id}", "getRun"),
    Operation("POST", "/runs/{run_id}/cancel", "cancelRun"),
    Operation("GET", "/approvals", "listApprovals"),
    Operation("POST", "/runs/{run_id}/approvals/{approval_id}", "decideApproval"),
    Operation("POST", "/kill-switch", "killSwitch"),
    Operation("GET", "/workflows", "listWorkflows"),
    Operation("GET", "/catalog/tools", "listTools"),
    Operation("GET", "/healthz", "health"),
    Operation("GET", "/openapi.json", "openapi"),
)

BY_ID = {op.operation_id: op for op in OPERATIONS}
