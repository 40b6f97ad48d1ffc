"""Recording what an executed call returned onto its ``CallRecord``."""

from __future__ import annotations

from datetime import datetime

from core.domain import CallRecord, CallStatus, Tool
from core.drift.runtime import response_drift
from core.execution.base import ExecutionResult


def apply_result(call: CallRecord, tool: Tool, result: ExecutionResult, now: datetime) -> None:
    """Copy an execution result onto the call; HTTP errors stay data for the planner."""
    call.executed = result.status_code is not None
    call.status_code = result.status_code
    call.result = result.body
    call.result_valid = result.valid
    call.ended_at = now
    call.drift = response_drift(tool, result)
    if result.error is not None:
        call.error = result.error
        call.status = CallStatus.ERROR
    elif result.status_code is not None and result.status_code >= 400:
        call.error = f"HTTP {result.status_code}"
        call.status = CallStatus.ERROR
    else:
        call.status = CallStatus.DONE


def failed_result(call: CallRecord, error: str, now: datetime) -> None:
    call.status = CallStatus.ERROR
    call.error = error
    call.ended_at = now
