"""The worker's side of run events: publish after each slice, retry with backoff.

Publishing happens after the slice is committed and before the queue message is
acknowledged: a crash in between redelivers the message, the worker finds it stale and
publishes again (the ledger makes that at least once, not twice per sink). A failing
receiver only schedules an ``events`` message for later; the run never waits for it and no
error from a receiver reaches the run.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from core.errors import NotFoundError, PaddockError
from core.events.outbox import backoff
from core.queue.base import Envelope, EnvelopeKind

if TYPE_CHECKING:
    from core.api.deps import Deps

log = logging.getLogger("paddock.events")


def publish_after(deps: Deps, envelope: Envelope, *, run_moves_on: bool) -> None:
    """Deliver what ``envelope``'s run owes; on failure schedule a retry message unless the
    run is about to be published again anyway (``run_moves_on``: another slice follows)."""
    if not deps.settings.events.enabled:
        return
    try:
        run = deps.store.get_run(envelope.run_id, with_steps=False)
        published = deps.publisher.publish(run)
    except NotFoundError:
        return
    except Exception:  # a bug here must never fail the slice that was already committed
        log.exception("publishing events of run %s failed", envelope.run_id)
        return
    retried = envelope.kind is EnvelopeKind.EVENTS
    if not published.retry or (run_moves_on and not retried):
        return
    attempt = envelope.attempt + 1 if retried else 1
    if attempt > deps.settings.events.max_attempts:
        log.error(
            "giving up events of run %s after %d rounds: %s",
            run.id,
            envelope.attempt,
            "; ".join(f"{k}: {v}" for k, v in published.failed.items()),
        )
        return
    again = Envelope(
        run_id=run.id,
        expected_version=run.version,
        target=deps.cloud,
        sender=deps.cloud,
        kind=EnvelopeKind.EVENTS,
        attempt=attempt,
    )
    try:
        deps.queue_for(deps.cloud).send(again, delay_seconds=backoff(attempt))
    except PaddockError as exc:
        log.error("could not schedule the events retry of run %s: %s", run.id, exc)
