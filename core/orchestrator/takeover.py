"""Single-flight take-over: of any number of people (or processes) asserting at once that the
worker holding a run's in-flight calls is gone, exactly one re-sends those calls.

The first to record a lease in the run store (``put_idempotency``: set-if-absent, atomic in
every backend) takes over; the lease lasts as long as a worker's claim. Everyone else backs
off with a message naming the holder. The winner overrides only the claims it saw as stale
when it started (``TakeOver.claims``): a claim made since, by a live worker or by another
take-over, is respected like any lease.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.domain import CallStatus, Run, utcnow
from core.state.base import RunStore

LEASE_PREFIX = "take-over:"


@dataclass(frozen=True)
class TakeOver:
    """The stale claims one take-over may override: ``(call_id, claimed_at)``."""

    claims: frozenset[tuple[str, datetime]]

    def covers(self, call_id: str, claimed_at: datetime | None) -> bool:
        return claimed_at is not None and (call_id, claimed_at) in self.claims


@dataclass(frozen=True)
class BackedOff:
    """Another take-over holds the lease; ``message`` says who and what to do."""

    message: str


def in_flight(run: Run) -> frozenset[tuple[str, datetime]]:
    """The claimed, unfinished calls of the run's last step."""
    last = run.steps[-1] if run.steps else None
    if last is None:
        return frozenset()
    return frozenset(
        (c.call_id, c.claimed_at)
        for c in last.calls
        if c.status is CallStatus.EXECUTING and c.claimed_at is not None
    )


def take_over(
    store: RunStore, run: Run, *, holder: str, lease: timedelta, now: datetime | None = None
) -> TakeOver | BackedOff:
    """Claim the right to re-send ``run``'s in-flight calls, or say who has it.

    Nothing in flight: an empty ``TakeOver`` (the resume is an ordinary one).
    """
    claims = in_flight(run)
    if not claims:
        return TakeOver(frozenset())
    step = run.steps[-1].index
    when = (now or utcnow()).isoformat(timespec="seconds")
    mine = json.dumps({"holder": holder, "at": when, "nonce": uuid.uuid4().hex})
    seconds = max(1, int(lease.total_seconds()))
    stored = store.put_idempotency(f"{LEASE_PREFIX}{run.id}:{step}", mine, ttl_seconds=seconds)
    if stored == mine:
        return TakeOver(claims)
    other = json.loads(stored)
    return BackedOff(
        f"run {run.id}: {other.get('holder', 'someone')} took over its in-flight calls at "
        f"{other.get('at', '?')} and is re-sending them; not sending them again. Check it "
        f"with `paddock runs show {run.id}`; if that take-over died too, take over again "
        f"after its lease ({seconds} s)."
    )
