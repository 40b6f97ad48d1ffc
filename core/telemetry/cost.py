"""Cost accounting: tokens and USD per step, per model, per run and per tenant.

The per-step figures are what the planner reported (priced with ``core.planner.pricing``);
a run's usage is their sum, kept on the run head by the loop; a tenant's is the sum over its
runs' heads.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.domain import Run, RunStatus, Usage
from core.state.base import RunStore


def usage_dict(usage: Usage) -> dict[str, Any]:
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
        "cost_usd": round(usage.cost_usd, 8),
    }


def cost_breakdown(run: Run) -> dict[str, Any]:
    """The run's tokens and USD: per step, per model and in total (the steps' sum)."""
    steps: list[dict[str, Any]] = []
    by_model: dict[str, Usage] = {}
    total = Usage()
    for step in run.steps:
        model = step.model or step.planner or run.planner
        steps.append({"step": step.number, "model": model, **usage_dict(step.usage)})
        by_model[model] = by_model.get(model, Usage()).add(step.usage)
        total = total.add(step.usage)
    return {
        "steps": steps,
        "by_model": {name: usage_dict(u) for name, u in sorted(by_model.items())},
        "total": usage_dict(total),
    }


@dataclass
class TenantCost:
    """One tenant's spend over the runs counted."""

    tenant: str
    runs: int = 0
    usage: Usage = field(default_factory=Usage)
    by_status: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "runs": self.runs,
            **usage_dict(self.usage),
            "by_status": dict(sorted(self.by_status.items())),
        }


def tenant_costs(runs: Iterable[Run]) -> list[TenantCost]:
    """Spend per tenant over ``runs`` (heads suffice), most expensive first."""
    found: dict[str, TenantCost] = {}
    for run in runs:
        entry = found.setdefault(run.tenant, TenantCost(run.tenant))
        entry.runs += 1
        entry.usage = entry.usage.add(_own_usage(run))
        entry.by_status[run.status.value] = entry.by_status.get(run.status.value, 0) + 1
    return sorted(found.values(), key=lambda t: (-t.usage.cost_usd, t.tenant))


def _own_usage(run: Run) -> Usage:
    """What ``run`` spent itself: a parent's usage includes each child it recorded as finished
    (``core.orchestrator.children``), and those children are counted as runs of their own."""
    absorbed = Usage()
    for ref in run.children:
        if ref.status.finished:
            absorbed = absorbed.add(ref.usage)
    return Usage(
        prompt_tokens=run.usage.prompt_tokens - absorbed.prompt_tokens,
        completion_tokens=run.usage.completion_tokens - absorbed.completion_tokens,
        cost_usd=round(run.usage.cost_usd - absorbed.cost_usd, 8),
    )


def stored_runs(
    store: RunStore,
    *,
    tenant: str | None = None,
    status: RunStatus | None = None,
    since: datetime | None = None,
    page_size: int = 100,
) -> Iterable[Run]:
    """Run heads from ``store``, newest first, until ``since`` (exclusive) is passed."""
    cursor: str | None = None
    while True:
        page = store.list_runs(tenant=tenant, status=status, limit=page_size, cursor=cursor)
        for run in page.runs:
            if since is not None and run.created_at < since:
                return
            yield run
        if page.cursor is None:
            return
        cursor = page.cursor
