"""CloudEvents 1.0 for what an operator or an ERP waits for, derived from the stored run.

Events are a pure function of a committed run (:func:`run_events`): the run is the outbox.
Whoever delivers them (the worker, after every slice) can compute them again after a crash and
gets the same events with the same ids, so delivery is at least once and a receiver drops
duplicates by ``id``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from core.domain import Approval, ApprovalStatus, Run, RunStatus

SPEC_VERSION = "1.0"
TYPE_PREFIX = "com.paddock."
"""Every event type is ``com.paddock.<name>``, e.g. ``com.paddock.run.succeeded``."""
DEFAULT_SOURCE = "/paddock"
MAX_TEXT = 1000
"""Goal, result, error and reason are cut to this many characters: an event must fit the
transports' limits (EventBridge: 256 KiB per PutEvents call); the full text is at
``location``."""

RUN_STARTED = "run.started"
APPROVAL_REQUESTED = "approval.requested"
APPROVAL_DECIDED = "approval.decided"
EVENT_NAMES = (
    RUN_STARTED,
    APPROVAL_REQUESTED,
    APPROVAL_DECIDED,
    "run.succeeded",
    "run.needs_review",
    "run.failed",
    "run.killed",
)
"""The documented events; a terminal status is published as ``run.<status>`` by value."""


class CloudEvent(BaseModel):
    """One CloudEvents 1.0 event in structured JSON form (``application/cloudevents+json``)."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    id: str
    """Stable for the same fact: ``<run id>:<name>[:<approval id>]``."""
    source: str
    type: str
    time: datetime
    subject: str
    """The run id (filterable without parsing ``data``)."""
    specversion: str = SPEC_VERSION
    datacontenttype: str = "application/json"
    data: dict[str, Any] = Field(default_factory=dict)
    tenant: str = Field(default="", alias="paddocktenant")
    """Extension attribute ``paddocktenant``: route events by tenant."""

    @property
    def name(self) -> str:
        """The type without the ``com.paddock.`` prefix (``run.failed``)."""
        return self.type.removeprefix(TYPE_PREFIX)

    def to_dict(self) -> dict[str, Any]:
        """The structured-mode JSON object (extension attribute names as on the wire)."""
        return self.model_dump(mode="json", by_alias=True)


def run_events(run: Run, *, source: str = DEFAULT_SOURCE) -> list[CloudEvent]:
    """Every event ``run`` has reached so far, oldest first."""
    found: list[CloudEvent] = []
    if _started(run):
        found.append(_event(run, RUN_STARTED, run.created_at, source, _run_data(run)))
    for approval in run.approvals:
        data = _approval_data(run, approval)
        found.append(
            _event(run, APPROVAL_REQUESTED, approval.created_at, source, data, approval.id)
        )
        if approval.status is not ApprovalStatus.PENDING:
            when = approval.decided_at or run.updated_at
            found.append(_event(run, APPROVAL_DECIDED, when, source, data, approval.id))
    if run.status.finished:
        name = f"run.{run.status.value}"
        found.append(_event(run, name, run.updated_at, source, _run_data(run)))
    return found


def _started(run: Run) -> bool:
    """A run killed before any worker touched it never started."""
    if run.status is RunStatus.PENDING:
        return False
    return not (run.status is RunStatus.KILLED and run.step_count == 0)


def _event(
    run: Run,
    name: str,
    when: datetime,
    source: str,
    data: dict[str, Any],
    detail: str | None = None,
) -> CloudEvent:
    key = f"{run.id}:{name}" + (f":{detail}" if detail else "")
    return CloudEvent(
        id=key,
        source=source,
        type=TYPE_PREFIX + name,
        time=when,
        subject=run.id,
        data=data,
        paddocktenant=run.tenant,
    )


def _run_data(run: Run) -> dict[str, Any]:
    data: dict[str, Any] = {
        "run_id": run.id,
        "tenant": run.tenant,
        "status": run.status.value,
        "scenario": run.scenario,
        "goal": _cut(run.goal),
        "requested_by": run.requested_by,
        "parent_id": run.parent_id,
        "steps": run.step_count,
        "tool_calls": run.tool_calls,
        "cost_usd": run.usage.cost_usd,
        "location": f"/runs/{run.id}",
    }
    if run.status.finished:
        data |= {"result": _cut(run.result), "error": _cut(run.error), "reason": _cut(run.reason)}
    return data


def _approval_data(run: Run, approval: Approval) -> dict[str, Any]:
    data: dict[str, Any] = {
        "run_id": run.id,
        "tenant": run.tenant,
        "approval_id": approval.id,
        "tool": approval.tool,
        "step": approval.step_index,
        "args_hash": approval.args_hash,
        "reasons": list(approval.reasons),
        "expires_at": approval.expires_at.isoformat() if approval.expires_at else None,
        "location": f"/runs/{run.id}/approvals/{approval.id}",
    }
    if approval.status is not ApprovalStatus.PENDING:
        data |= {
            "decision": approval.status.value,
            "decided_by": approval.decided_by,
            "comment": _cut(approval.comment),
        }
    return data


def _cut(text: str | None) -> str | None:
    if text is None or len(text) <= MAX_TEXT:
        return text
    return text[: MAX_TEXT - 1] + "…"
