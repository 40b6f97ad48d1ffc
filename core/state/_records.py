"""Backend-neutral records: what a persistent backend stores for a run head and a step."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from core.domain import RunStatus


@dataclass(frozen=True)
class Body:
    """A serialised head or step: inline JSON text, or the key of a claim-checked payload."""

    text: str | None = None
    claim: str | None = None


@dataclass(frozen=True)
class HeadRecord:
    run_id: str
    version: int
    status: RunStatus
    tenant: str
    created: str
    """``created_at`` as fixed-width UTC text, so it sorts as time does."""
    body: Body


@dataclass(frozen=True)
class StepRecord:
    index: int
    body: Body


def sortable_time(value: datetime) -> str:
    """Fixed-width UTC text with microseconds (naive datetimes are taken as UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def epoch_micros(created: str) -> int:
    moment = datetime.strptime(created, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return int(moment.timestamp()) * 1_000_000 + moment.microsecond
