"""Deliver a run's events to every sink, at least once, without ever holding the run up.

The run is the outbox: :func:`run_events` computes its events from the committed run, and a
small ledger per run (a store counter, ``events:<run id>``, compare-and-swap) records which
event each sink has taken. :meth:`Publisher.publish` delivers what the ledger lacks and
reports whether anything is left; the worker calls it after every slice (before the queue
message is acknowledged, so a crash in between redelivers the message and publishes again)
and schedules a retry message with :func:`backoff` when a sink failed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from core.domain import Run
from core.errors import ConflictError, PaddockError
from core.events.cloudevent import DEFAULT_SOURCE, CloudEvent, run_events
from core.events.sinks import DeliveryError, Sink
from core.state.base import RunStore

log = logging.getLogger("paddock.events")

LEDGER_PREFIX = "events:"
BASE_DELAY_SECONDS = 5
MAX_DELAY_SECONDS = 900
_LEDGER_WRITES = 5


def backoff(attempt: int) -> int:
    """Seconds before retry ``attempt`` (1, 2, ...): 5, 10, 20... up to 15 minutes."""
    return int(min(MAX_DELAY_SECONDS, BASE_DELAY_SECONDS * 2 ** max(0, attempt - 1)))


@dataclass(frozen=True)
class Published:
    """What one :meth:`Publisher.publish` did."""

    delivered: int = 0
    """Events delivered now (counted once per sink)."""
    failed: dict[str, str] = field(default_factory=dict)
    """Sink name -> why it failed; these events are still owed."""

    @property
    def retry(self) -> bool:
        return bool(self.failed)


class Publisher:
    """Delivers runs' events to ``sinks`` and keeps the ledger in ``store``."""

    def __init__(
        self, store: RunStore, sinks: Sequence[Sink], *, source: str = DEFAULT_SOURCE
    ) -> None:
        self.store = store
        self.sinks = tuple(sinks)
        self.source = source

    def publish(self, run: Run) -> Published:
        """Deliver ``run``'s events each sink has not taken yet. Never raises for a failing
        receiver or ledger: that is reported in ``failed`` and retried by the caller."""
        if not self.sinks:
            return Published()
        events = run_events(run, source=self.source)
        if not events:
            return Published()
        try:
            done = set(self.store.get_counter(LEDGER_PREFIX + run.id).value)
        except PaddockError as exc:
            return Published(failed={"ledger": exc.message})
        delivered: list[str] = []
        failed: dict[str, str] = {}
        for sink in self.sinks:
            owed = [e for e in events if _key(sink, e) not in done]
            if not owed:
                continue
            try:
                sink.deliver(owed)
            except DeliveryError as exc:
                log.warning("events for run %s not delivered to %s: %s", run.id, sink.name, exc)
                failed[sink.name] = exc.message
                continue
            delivered.extend(_key(sink, e) for e in owed)
        if delivered:
            try:
                self._record(run.id, delivered)
            except PaddockError as exc:  # delivered but not recorded: sent again later
                failed["ledger"] = exc.message
        return Published(delivered=len(delivered), failed=failed)

    def _record(self, run_id: str, keys: list[str]) -> None:
        name = LEDGER_PREFIX + run_id
        for _ in range(_LEDGER_WRITES):
            current = self.store.get_counter(name)
            value = dict(current.value) | dict.fromkeys(keys, 1.0)
            try:
                self.store.put_counter(name, value, etag=current.etag)
                return
            except ConflictError:
                continue  # another worker recorded its deliveries: merge with them
        raise ConflictError(f"event ledger {name} kept changing")


def _key(sink: Sink, event: CloudEvent) -> str:
    return f"{sink.name}|{event.id}"
