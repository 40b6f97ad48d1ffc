"""The queue worker: one envelope in, a bounded slice of the run advanced, the next message out.

Both clouds' queue triggers call :func:`process_envelope` (through :class:`Worker`). A run that
is not finished after ``max_steps`` goes back on this cloud's queue; a run whose next call
belongs to the other cloud is handed to that cloud's queue by :class:`QueueHandoff`, which the
orchestrator calls. Duplicate and stale envelopes are dropped by their version.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from core.domain import Run, RunStatus, utcnow
from core.errors import ConfigError, NotFoundError, Throttled
from core.queue.base import Envelope, EnvelopeKind, TaskQueue

if TYPE_CHECKING:
    from core.api.deps import Deps
    from core.orchestrator.engine import Orchestrator
    from core.ratelimit.slots import Slots
    from core.state.base import RunStore

log = logging.getLogger("paddock.worker")

QueueLookup = Callable[[str], TaskQueue]
DEFAULT_MAX_STEPS = 5
MAX_STALL_CHECKS = 5
"""A stale envelope is looked at again this many times (after the claim lease each time) in
case the run it names has stalled; then it is dropped."""
MAX_DELAY_SECONDS = 900
SWEEP_DELAY_SECONDS = 2
"""The longest delay a re-enqueued message may carry (SQS DelaySeconds allows 15 minutes)."""
_handoffs: ContextVar[list[str] | None] = ContextVar("paddock_handoffs", default=None)


class Outcome(StrEnum):
    FINISHED = "finished"
    PAUSED = "paused"
    """Waiting for a human; the approval endpoint enqueues the run again."""
    CONTINUED = "continued"
    """Still running after ``max_steps``: re-enqueued on this cloud's queue."""
    HANDED_OFF = "handed_off"
    """The next call belongs to the other cloud: sent to its queue."""
    FORWARDED = "forwarded"
    """The envelope was meant for the other cloud's worker: passed on unchanged."""
    STALE = "stale"
    """A duplicate or an old message: the run moved on; dropped."""
    IDLE = "idle"
    """Nothing to do at this version (another worker holds the run)."""
    DROPPED = "dropped"
    """The run does not exist (any more)."""
    WAITING = "waiting"
    """Waiting for its child runs; their ``child_done`` messages wake it."""
    DEFERRED = "deferred"
    """No budget now (rate limit, tenant cap, 429/503): re-enqueued with a delay."""


@dataclass(frozen=True)
class WorkOutcome:
    outcome: Outcome
    run_id: str
    version: int | None = None
    status: RunStatus | None = None
    target: str | None = None
    delay: int | None = None
    """For ``deferred``: seconds until the re-enqueued message becomes visible."""


@dataclass(frozen=True)
class TenantCap:
    """At most ``per_tenant`` runs of one tenant advance at once, across every worker."""

    slots: Slots
    per_tenant: int


class QueueHandoff:
    """The orchestrator's handoff hook: send ``Envelope(run_id, version, target)`` to the
    target cloud's queue; the receiving worker continues from that version.

    With one store shared by both clouds that is all. With ``stores`` (each cloud keeps runs
    in its own store), the run is first copied into the target's store and the home copy
    becomes a forwarding record after the send: see :mod:`core.orchestrator.replica` for why
    a crash at any point neither loses the run nor repeats a call.
    """

    def __init__(
        self,
        queues: QueueLookup | Mapping[str, TaskQueue],
        *,
        sender: str | None = None,
        home: RunStore | None = None,
        stores: Mapping[str, RunStore] | None = None,
    ) -> None:
        if stores and home is None:
            raise ConfigError("a replicating handoff needs the home store as well")
        self._queues = _lookup(queues)
        self._sender = sender
        self._home = home
        self._stores = dict(stores or {})

    def __call__(self, run: Run, target: str) -> None:
        from core.telemetry.tracing import current_traceparent, note_handoff

        version, moved = run.version, None
        if self._stores:
            from core.orchestrator.replica import moved_copy, replicate

            store = self._stores.get(target)
            if store is None or self._home is None:
                raise ConfigError(f"no store for the {target} cloud to hand run {run.id} to")
            if len(run.steps) != run.step_count:
                run = self._home.get_run(run.id)
            moved = moved_copy(run, target)
            version = replicate(moved, store)
        envelope = Envelope.model_validate(
            {
                "run_id": run.id,
                "expected_version": version,
                "target": target,
                "sender": self._sender,
                "traceparent": current_traceparent() or run.traceparent,
            }
        )
        self._queues(target).send(envelope)
        if moved is not None and self._home is not None:
            from core.orchestrator.replica import mark_moved

            mark_moved(self._home, run, moved)
        note_handoff(target, run.id)
        sent = _handoffs.get()
        if sent is not None:
            sent.append(target)
        log.info("handed run %s at version %d to %s", run.id, run.version, target)


def process_envelope(
    envelope: Envelope,
    orchestrator: Orchestrator,
    queues: QueueLookup | Mapping[str, TaskQueue],
    *,
    max_steps: int = DEFAULT_MAX_STEPS,
    tenant_cap: TenantCap | None = None,
) -> WorkOutcome:
    """Advance the envelope's run by at most ``max_steps`` planned steps.

    A run without budget (``Throttled``: a rate limit, a 429/503, or ``tenant_cap`` full) is
    not waited for here: the message goes back on the queue with the delay the budget names.

    Raises what the store or a queue raises (``BackendError``...), so the message is
    delivered again; an unknown run is dropped.
    """
    lookup = _lookup(queues)
    here = orchestrator.cloud
    if here != "local" and envelope.target != here:
        lookup(envelope.target).send(envelope)
        return WorkOutcome(Outcome.FORWARDED, envelope.run_id, target=envelope.target)
    if envelope.kind is EnvelopeKind.CHILD_DONE:
        return _child_done(envelope, orchestrator, lookup, max_steps, tenant_cap)
    try:
        head = orchestrator.store.get_run(envelope.run_id, with_steps=False)
    except NotFoundError:
        log.warning("dropping envelope %s: no run %s", envelope.id, envelope.run_id)
        return WorkOutcome(Outcome.DROPPED, envelope.run_id)
    if head.version != envelope.expected_version or head.status.finished:
        if head.status.finished and orchestrator.children is not None:
            # The worker that finished it may have died before telling the parent.
            orchestrator.children.child_finished(head)
        wait = _stall_wait(head, orchestrator)
        if wait is None or envelope.attempt > MAX_STALL_CHECKS:
            return WorkOutcome(Outcome.STALE, head.id, head.version, head.status)
        if wait > 0:  # maybe a live worker: look again once its lease has run out
            return _defer(envelope, head, lookup, here, wait)
        # Stalled: the worker that last moved it died before passing it on. Take it over.
        log.warning("run %s stalled at version %d; resuming it", head.id, head.version)
        envelope = envelope.model_copy(update={"expected_version": head.version})
    if orchestrator.children is not None and head.parent_id is not None:
        stopped = orchestrator.children.parent_stopped(head)
        if stopped is not None:  # e.g. killed while this child was being spawned
            run = orchestrator.kill(head.id, reason=stopped)
            return WorkOutcome(Outcome.FINISHED, run.id, run.version, run.status)
    slot_key = f"tenant:{head.tenant}"
    if tenant_cap is not None:
        grant = tenant_cap.slots.acquire(slot_key, head.id, tenant_cap.per_tenant)
        if not grant.granted:
            return _defer(envelope, head, lookup, here, grant.retry_after, stall_check=False)
    token = _handoffs.set([])
    try:
        # The consumer span continues the sender's trace; the advance nests under it.
        with orchestrator.tracing.receive(envelope):
            run = orchestrator.advance(
                envelope.run_id, expected_version=envelope.expected_version, max_steps=max_steps
            )
        sent = _handoffs.get() or []
    except Throttled as exc:
        current = orchestrator.store.get_run(envelope.run_id, with_steps=False)
        return _defer(envelope, current, lookup, here, exc.wait, stall_check=False)
    finally:
        _handoffs.reset(token)
        if tenant_cap is not None:
            tenant_cap.slots.release(slot_key, head.id)
    if sent:
        return WorkOutcome(Outcome.HANDED_OFF, run.id, run.version, run.status, sent[-1])
    if run.status.finished:
        if orchestrator.children is not None:
            orchestrator.children.child_finished(run)
        return WorkOutcome(Outcome.FINISHED, run.id, run.version, run.status)
    if run.status is RunStatus.WAITING:
        return WorkOutcome(Outcome.WAITING, run.id, run.version, run.status)
    if run.status is RunStatus.AWAITING_APPROVAL:
        return WorkOutcome(Outcome.PAUSED, run.id, run.version, run.status)
    from core.orchestrator.engine import lost_race

    if lost_race():  # another worker moved it on and carries it forward: no second chain
        return WorkOutcome(Outcome.IDLE, run.id, run.version, run.status)
    if run.version == envelope.expected_version:
        return WorkOutcome(Outcome.IDLE, run.id, run.version, run.status)
    lookup(here).send(
        Envelope.model_validate(
            {
                "run_id": run.id,
                "expected_version": run.version,
                "target": here,
                "sender": here,
                "traceparent": envelope.traceparent or run.traceparent,
            }
        )
    )
    return WorkOutcome(Outcome.CONTINUED, run.id, run.version, run.status, here)


def _stall_wait(head: Run, orchestrator: Orchestrator) -> float | None:
    """For a stale envelope: ``None`` when the run cannot be stalled here (finished, waiting
    for a human or its children, or owned by another cloud), else the seconds until it counts
    as stalled (``<= 0``: it does). A checkpoint older than the claim lease means the worker
    that wrote it died before sending the next message (say, between planning a step and
    handing it over)."""
    if head.status.finished or head.status in (RunStatus.AWAITING_APPROVAL, RunStatus.WAITING):
        return None
    here = orchestrator.cloud
    if here != "local" and head.owner not in (None, here):
        return None
    idle = (orchestrator.clock() - head.updated_at).total_seconds()
    return orchestrator.claim_lease.total_seconds() - idle


def _defer(
    envelope: Envelope,
    run: Run,
    lookup: QueueLookup,
    here: str,
    wait: float,
    *,
    stall_check: bool = True,
) -> WorkOutcome:
    """Put the run back on this cloud's queue, visible again after ``wait`` seconds.

    Only stall checks count as attempts (``MAX_STALL_CHECKS``): a run deferred for lack of
    budget many times must still be taken over if a worker dies while advancing it."""
    if run.status.finished:
        return WorkOutcome(Outcome.STALE, run.id, run.version, run.status)
    delay = min(MAX_DELAY_SECONDS, max(1, math.ceil(wait)))
    base = envelope.retry() if stall_check else envelope.model_copy(update={"sent_at": utcnow()})
    again = base.model_copy(
        update={"expected_version": run.version, "kind": EnvelopeKind.ADVANCE, "child_id": None}
    )
    if here != "local":
        again = again.model_copy(update={"target": here})
    lookup(again.target).send(again, delay_seconds=delay)
    log.info("run %s deferred %d s", run.id, delay)
    return WorkOutcome(Outcome.DEFERRED, run.id, run.version, run.status, again.target, delay)


def _child_done(
    envelope: Envelope,
    orchestrator: Orchestrator,
    lookup: QueueLookup,
    max_steps: int,
    tenant_cap: TenantCap | None,
) -> WorkOutcome:
    """A child finished: record it on the parent and, when this message woke the parent,
    advance it here (a duplicate finds nothing to record and leaves the parent alone)."""
    if orchestrator.children is None:
        log.warning("dropping child_done for %s: this worker has no child runs", envelope.run_id)
        return WorkOutcome(Outcome.DROPPED, envelope.run_id)
    children = orchestrator.children
    try:
        parent, woke = children.collect(envelope.run_id, child_id=envelope.child_id)
    except NotFoundError:
        return WorkOutcome(Outcome.DROPPED, envelope.run_id)
    if envelope.child_id is not None and children.needs_sweep(parent):
        # A few children left: re-read them all shortly, in case a notification was lost
        # (a worker died between a child's checkpoint and its message, a lost update).
        lookup(envelope.target).send(
            envelope.model_copy(update={"child_id": None}), delay_seconds=SWEEP_DELAY_SECONDS
        )
    if not woke and not children.stalled_wake(parent, now=orchestrator.clock()):
        outcome = Outcome.WAITING if parent.status is RunStatus.WAITING else Outcome.STALE
        return WorkOutcome(outcome, parent.id, parent.version, parent.status)
    advance = envelope.model_copy(
        update={"kind": EnvelopeKind.ADVANCE, "child_id": None, "expected_version": parent.version}
    )
    return process_envelope(
        advance, orchestrator, lookup, max_steps=max_steps, tenant_cap=tenant_cap
    )


class Worker:
    """What a queue trigger holds at module scope: dependencies built on first message."""

    def __init__(
        self,
        deps: Deps,
        *,
        max_steps: int = DEFAULT_MAX_STEPS,
        tenant_concurrency: int | None = None,
    ) -> None:
        self.deps = deps
        self.max_steps = max_steps
        self.tenant_concurrency = tenant_concurrency
        """At most this many runs of one tenant advance at once (``None``: no cap)."""
        self._tenant_cap: TenantCap | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Worker:
        from core.api.deps import Deps
        from core.config import Settings

        source = os.environ if env is None else env
        cap = source.get("PADDOCK_TENANT_CONCURRENCY", "")
        if cap and not (cap.isdigit() and int(cap) > 0):
            raise ConfigError(f"PADDOCK_TENANT_CONCURRENCY must be a positive integer, not {cap!r}")
        return cls(Deps(Settings.from_env(env)), tenant_concurrency=int(cap) if cap else None)

    def process(self, envelope: Envelope) -> WorkOutcome:
        try:
            outcome = process_envelope(
                envelope,
                self.deps.orchestrator,
                self.deps.queue_for,
                max_steps=self.max_steps,
                tenant_cap=self._cap(),
            )
        finally:
            self.deps.flush_telemetry()  # before the serverless host freezes the process
        log.info("envelope %s for run %s: %s", envelope.id, envelope.run_id, outcome.outcome.value)
        return outcome

    def _cap(self) -> TenantCap | None:
        if self.tenant_concurrency is None:
            return None
        if self._tenant_cap is None:
            from core.ratelimit.slots import Slots

            self._tenant_cap = TenantCap(Slots(self.deps.store), self.tenant_concurrency)
        return self._tenant_cap

    def process_body(self, body: str | bytes) -> WorkOutcome:
        """Decode a queue message body; a body that is no envelope raises ``ConfigError``."""
        try:
            envelope = Envelope.from_json(body)
        except ValueError as exc:
            raise ConfigError(f"queue message is not a Paddock envelope: {exc}") from exc
        return self.process(envelope)


def _lookup(queues: QueueLookup | Mapping[str, TaskQueue]) -> QueueLookup:
    if isinstance(queues, Mapping):
        return queues.__getitem__
    return queues
