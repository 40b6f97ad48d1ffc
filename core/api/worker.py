"""The queue worker: one envelope in, a bounded slice of the run advanced, the next message out.

Both clouds' queue triggers call :func:`process_envelope` (through :class:`Worker`). It
matches on what ``Orchestrator.advance`` reports (``core.orchestrator.outcome``): a run that
yielded after ``max_steps`` goes back on this cloud's queue, a throttled one goes back with the
delay it names, a run whose next call belongs to the other cloud was handed to that cloud's
queue by :class:`QueueHandoff` (the orchestrator's handoff hook). Duplicate and stale envelopes
are dropped by their version.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from core.domain import Run, RunStatus, utcnow
from core.errors import ConfigError, NotFoundError
from core.orchestrator.outcome import AdvanceOutcome, HandedOff, Throttled, Yielded
from core.queue.base import Envelope, EnvelopeKind, TaskQueue

if TYPE_CHECKING:
    from core.api.deps import Deps
    from core.orchestrator.engine import Orchestrator
    from core.ratelimit.slots import Slots
    from core.settings import Settings
    from core.state.base import RunStore

log = logging.getLogger("paddock.worker")

QueueLookup = Callable[[str], TaskQueue]
DEFAULT_MAX_STEPS = 5
MAX_STALL_CHECKS = 5
"""A stale envelope is looked at again this many times (after the claim lease each time) in
case the run it names has stalled; then it is dropped."""
MAX_DELAY_SECONDS = 900
"""The longest delay a re-enqueued message may carry (SQS DelaySeconds allows 15 minutes)."""
SWEEP_DELAY_SECONDS = 2


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
    PUBLISHED = "published"
    """An ``events`` message: the run's owed events were delivered (or retried later)."""


_MOVING = (Outcome.CONTINUED, Outcome.DEFERRED, Outcome.HANDED_OFF)
"""Another slice (here or in the other cloud) follows, and publishes again."""


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
        log.info("handed run %s at version %d to %s", run.id, run.version, target)


@dataclass(frozen=True)
class _Slice:
    """What handling one envelope needs besides the envelope."""

    orchestrator: Orchestrator
    lookup: QueueLookup
    max_steps: int
    tenant_cap: TenantCap | None

    @property
    def here(self) -> str:
        return self.orchestrator.cloud


def process_envelope(
    envelope: Envelope,
    orchestrator: Orchestrator,
    queues: QueueLookup | Mapping[str, TaskQueue],
    *,
    max_steps: int = DEFAULT_MAX_STEPS,
    tenant_cap: TenantCap | None = None,
) -> WorkOutcome:
    """Advance the envelope's run by at most ``max_steps`` planned steps.

    A run without budget (throttled by a rate limit or a 429/503, or ``tenant_cap`` full) is
    not waited for here: the message goes back on the queue with the delay the budget names.

    Raises what the store or a queue raises (``BackendError``...), so the message is
    delivered again; an unknown run is dropped.
    """
    if envelope.kind is EnvelopeKind.EVENTS:  # never advances the run: Worker publishes
        return WorkOutcome(Outcome.PUBLISHED, envelope.run_id)
    work = _Slice(orchestrator, _lookup(queues), max_steps, tenant_cap)
    if work.here != "local" and envelope.target != work.here:
        work.lookup(envelope.target).send(envelope)
        return WorkOutcome(Outcome.FORWARDED, envelope.run_id, target=envelope.target)
    if envelope.kind is EnvelopeKind.CHILD_DONE:
        return _child_done(envelope, work)
    return _advance_message(envelope, work)


def _advance_message(envelope: Envelope, work: _Slice) -> WorkOutcome:
    """An ``advance`` or ``resume`` message: check it against the stored run, then advance."""
    try:
        head = work.orchestrator.store.get_run(envelope.run_id, with_steps=False)
    except NotFoundError:
        log.warning("dropping envelope %s: no run %s", envelope.id, envelope.run_id)
        return WorkOutcome(Outcome.DROPPED, envelope.run_id)
    if head.version != envelope.expected_version or head.status.finished:
        checked = _stale(envelope, head, work)
        if isinstance(checked, WorkOutcome):
            return checked
        envelope = checked
    children = work.orchestrator.children
    if children is not None and head.parent_id is not None:
        stopped = children.parent_stopped(head)
        if stopped is not None:  # e.g. killed while this child was being spawned
            run = work.orchestrator.kill(head.id, reason=stopped)
            return WorkOutcome(Outcome.FINISHED, run.id, run.version, run.status)
    return _advance_in_slot(envelope, head, work)


def _stale(envelope: Envelope, head: Run, work: _Slice) -> WorkOutcome | Envelope:
    """An envelope whose version the run has left (or whose run finished): drop it, look
    again later, or — when the run stalled — the envelope to take the run over with."""
    if head.status.finished and work.orchestrator.children is not None:
        # The worker that finished it may have died before telling the parent.
        work.orchestrator.children.child_finished(head)
    wait = _stall_wait(head, work.orchestrator)
    if wait is None or envelope.attempt > MAX_STALL_CHECKS:
        return WorkOutcome(Outcome.STALE, head.id, head.version, head.status)
    if wait > 0:  # maybe a live worker: look again once its lease has run out
        return _defer(envelope, head, work, wait)
    # Stalled: the worker that last moved it died before passing it on. Take it over.
    log.warning("run %s stalled at version %d; resuming it", head.id, head.version)
    return envelope.model_copy(update={"expected_version": head.version})


def _advance_in_slot(envelope: Envelope, head: Run, work: _Slice) -> WorkOutcome:
    """Advance the run within its tenant's concurrency slot (when there is a cap)."""
    cap, slot_key = work.tenant_cap, f"tenant:{head.tenant}"
    if cap is not None:
        grant = cap.slots.acquire(slot_key, head.id, cap.per_tenant)
        if not grant.granted:
            why = f"tenant {head.tenant} has all its {cap.per_tenant} slots in use"
            return _defer(envelope, head, work, grant.retry_after, stall_check=False, why=why)
    try:
        # The consumer span continues the sender's trace; the advance nests under it.
        with work.orchestrator.tracing.receive(envelope):
            outcome = work.orchestrator.advance(
                envelope.run_id,
                expected_version=envelope.expected_version,
                max_steps=work.max_steps,
                deferred=(envelope.deferrals, envelope.deferred_reason),
            )
    finally:
        if cap is not None:
            cap.slots.release(slot_key, head.id)
    return _after_advance(envelope, outcome, work)


def _after_advance(envelope: Envelope, outcome: AdvanceOutcome, work: _Slice) -> WorkOutcome:
    """Pass the run on as the engine's outcome says."""
    match outcome:
        case HandedOff(run, target):
            return WorkOutcome(Outcome.HANDED_OFF, run.id, run.version, run.status, target)
        case Throttled(run, delay, reason):
            return _defer(envelope, run, work, delay, stall_check=False, why=reason)
        case Yielded(run) if run.version != envelope.expected_version:
            return _send_on(envelope, run, work)
        case _:
            # Finished, paused or waiting; or left to the writer that moved it on (a lost
            # race, a stale version): no second chain of messages.
            return _at_rest(outcome.run, work.orchestrator)


def _at_rest(run: Run, orchestrator: Orchestrator) -> WorkOutcome:
    """Report a run this worker leaves where it is, by its status."""
    if run.status.finished:
        if orchestrator.children is not None:
            orchestrator.children.child_finished(run)
        return WorkOutcome(Outcome.FINISHED, run.id, run.version, run.status)
    if run.status is RunStatus.WAITING:
        return WorkOutcome(Outcome.WAITING, run.id, run.version, run.status)
    if run.status is RunStatus.AWAITING_APPROVAL:
        return WorkOutcome(Outcome.PAUSED, run.id, run.version, run.status)
    return WorkOutcome(Outcome.IDLE, run.id, run.version, run.status)


def _send_on(envelope: Envelope, run: Run, work: _Slice) -> WorkOutcome:
    """Still running: the next slice goes back on this cloud's queue at the new version."""
    here = work.here
    work.lookup(here).send(
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
    work: _Slice,
    wait: float,
    *,
    stall_check: bool = True,
    why: str | None = None,
) -> WorkOutcome:
    """Put the run back on this cloud's queue, visible again after ``wait`` seconds.

    Only stall checks count as attempts (``MAX_STALL_CHECKS``): a run deferred for lack of
    budget many times must still be taken over if a worker dies while advancing it. Budget
    deferrals (``why``) are counted on the message and recorded on the run's next step."""
    if run.status.finished:
        return WorkOutcome(Outcome.STALE, run.id, run.version, run.status)
    delay = min(MAX_DELAY_SECONDS, max(1, math.ceil(wait)))
    base = (
        envelope.retry()
        if stall_check
        else envelope.model_copy(
            update={
                "sent_at": utcnow(),
                "deferrals": envelope.deferrals + 1,
                "deferred_reason": (why or "")[:500] or None,
            }
        )
    )
    again = base.model_copy(
        update={"expected_version": run.version, "kind": EnvelopeKind.ADVANCE, "child_id": None}
    )
    if work.here != "local":
        again = again.model_copy(update={"target": work.here})
    work.lookup(again.target).send(again, delay_seconds=delay)
    log.info("run %s deferred %d s", run.id, delay)
    return WorkOutcome(Outcome.DEFERRED, run.id, run.version, run.status, again.target, delay)


def _child_done(envelope: Envelope, work: _Slice) -> WorkOutcome:
    """A child finished: record it on the parent and, when this message woke the parent,
    advance it here (a duplicate finds nothing to record and leaves the parent alone)."""
    children = work.orchestrator.children
    if children is None:
        log.warning("dropping child_done for %s: this worker has no child runs", envelope.run_id)
        return WorkOutcome(Outcome.DROPPED, envelope.run_id)
    try:
        collected = children.collect(envelope.run_id, child_id=envelope.child_id)
    except NotFoundError:
        return WorkOutcome(Outcome.DROPPED, envelope.run_id)
    if envelope.child_id is not None and children.needs_sweep(collected):
        # A few children left: re-read them all shortly, in case a notification was lost
        # (a worker died between a child's checkpoint and its message, a lost update).
        work.lookup(envelope.target).send(
            envelope.model_copy(update={"child_id": None}), delay_seconds=SWEEP_DELAY_SECONDS
        )
    parent, woke = collected.parent, collected.woke
    if parent is None:  # recorded in the fan-in ledger; the parent still waits
        return WorkOutcome(Outcome.WAITING, envelope.run_id)
    if not woke and not children.stalled_wake(parent, now=work.orchestrator.clock()):
        outcome = Outcome.WAITING if parent.status is RunStatus.WAITING else Outcome.STALE
        return WorkOutcome(outcome, parent.id, parent.version, parent.status)
    advance = envelope.model_copy(
        update={"kind": EnvelopeKind.ADVANCE, "child_id": None, "expected_version": parent.version}
    )
    return _advance_message(advance, work)


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
    def from_settings(cls, settings: Settings) -> Worker:
        """A worker over ``settings``, with its tenant cap (``settings.worker``)."""
        from core.api.deps import Deps

        return cls(Deps(settings), tenant_concurrency=settings.worker.tenant_concurrency)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Worker:
        """:meth:`from_settings` with settings from ``env`` (default: the process
        environment)."""
        from core.settings import Settings

        return cls.from_settings(Settings.from_env(env))

    def process(self, envelope: Envelope) -> WorkOutcome:
        from core.api.publishing import publish_after

        try:
            outcome = process_envelope(
                envelope,
                self.deps.orchestrator,
                self.deps.queue_for,
                max_steps=self.max_steps,
                tenant_cap=self._cap(),
            )
            if outcome.outcome is not Outcome.FORWARDED:
                publish_after(self.deps, envelope, run_moves_on=outcome.outcome in _MOVING)
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
