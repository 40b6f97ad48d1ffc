"""What the console's templates show: API views plus the details a human decides on.

Everything taken from run data passes through the telemetry redactor first (secrets always,
personal data by default; see ``core.console.redaction``), as it would in a log line: the
console is another place people look.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.api.deps import Deps
    from core.api.models import ApprovalView
    from core.console.redaction import ConsoleRedactor
    from core.domain import CallRecord, Run

MAX_SHOWN = 4000
CLOUD_NAMES = {"aws": "AWS", "azure": "Azure", "external": "external", "local": "local"}


@dataclass(frozen=True)
class Location:
    """Where a call goes: its cloud, its operation (``GET /path``), the endpoint it reaches,
    and what kind of effect it has."""

    cloud: str
    operation: str | None = None
    endpoint: str | None = None
    side_effect: str = "read"

    @property
    def text(self) -> str:
        where = CLOUD_NAMES.get(self.cloud, self.cloud)
        return f"{where} · {self.operation}" if self.operation else where


@dataclass(frozen=True)
class InboxItem:
    """One pending approval with the run it belongs to."""

    approval: ApprovalView
    args: str
    location: Location
    cost_usd: float
    tokens: int
    run_status: str
    requested_by: str | None


@dataclass
class Inbox:
    items: list[InboxItem] = field(default_factory=list)

    @property
    def version(self) -> str:
        ids = ",".join(f"{i.approval.id}:{i.approval.status}" for i in self.items)
        return hashlib.sha256(ids.encode()).hexdigest()[:16]


def shown(value: Any) -> str:
    """Pretty JSON for a page (cut when long) of a value already redacted."""
    text = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "\n…"


def find_call(run: Run, step: int, call_id: str) -> CallRecord | None:
    """The call ``call_id`` of the step numbered ``step`` (1-based, as views show it)."""
    for found in run.steps:
        if found.number == step:
            return next((c for c in found.calls if c.call_id == call_id), None)
    return None


def locate(
    deps: Deps, run: Run, call: CallRecord | None, tool_name: str, redact: ConsoleRedactor
) -> Location:
    """The call's cloud and side effect, plus its operation and endpoint from the run's
    catalog."""
    cloud = call.cloud if call is not None else "external"
    effect = call.side_effect if call is not None else "read"
    try:
        tool = deps.catalogs(run).find(tool_name)
    except Exception:  # a catalog that no longer loads must not hide the approval
        tool = None
    if tool is None:
        return Location(cloud=cloud, side_effect=effect)
    return Location(
        cloud=cloud,
        operation=redact.text(tool.binding.label),
        endpoint=redact.text(tool.binding.endpoint or "") or None,
        side_effect=effect,
    )


def inbox_items(deps: Deps, approvals: list[ApprovalView], redact: ConsoleRedactor) -> Inbox:
    runs: dict[str, Run] = {}
    inbox = Inbox()
    for approval in approvals:
        run = runs.get(approval.run_id)
        if run is None:
            run = runs[approval.run_id] = deps.store.get_run(approval.run_id)
        call = find_call(run, approval.step, approval.call_id)
        approval = redact.view(approval)
        inbox.items.append(
            InboxItem(
                approval=approval,
                args=shown(approval.args or {}),
                location=locate(deps, run, call, approval.tool, redact),
                cost_usd=run.usage.cost_usd,
                tokens=run.usage.prompt_tokens + run.usage.completion_tokens,
                run_status=run.status.value,
                requested_by=redact.identity(run.requested_by),
            )
        )
    return inbox
