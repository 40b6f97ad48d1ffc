"""Backend-neutral records: what a persistent backend stores for a run head and a step."""

from __future__ import annotations

import base64
import functools
from dataclasses import dataclass
from datetime import UTC, datetime

from core.domain import RunStatus
from core.errors import BackendError


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


@functools.lru_cache(maxsize=1024)
def sortable_time(value: datetime) -> str:
    """Fixed-width UTC text with microseconds (naive datetimes are taken as UTC).

    Memoised: every checkpoint of a run formats the same ``created_at`` again, and
    ``strftime`` is a visible share of an in-memory checkpoint.
    """
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def epoch_micros(created: str) -> int:
    moment = datetime.strptime(created, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return int(moment.timestamp()) * 1_000_000 + moment.microsecond


def encode_cursor(head: HeadRecord) -> str:
    """An opaque cursor just after ``head`` in newest-first order: a place, not a count, so
    runs created or moved between two pages do not shift the next one."""
    return base64.urlsafe_b64encode(f"{head.created}|{head.run_id}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[str, str]:
    """``(created, run_id)`` of the last head of the previous page."""
    try:
        created, run_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|", 1)
        epoch_micros(created)
    except ValueError as exc:  # binascii.Error and UnicodeDecodeError are ValueErrors
        raise BackendError(f"bad cursor {cursor!r}", retryable=False) from exc
    return created, run_id
