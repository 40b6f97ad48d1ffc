"""Cross-cloud handoff when each cloud keeps runs in its own store: the state follows the run.

A run whose next call belongs to the other cloud is *copied* into that cloud's store and then
announced on that cloud's queue. The order is what makes a crash harmless:

1. copy the run (head and every step) into the target store, tagged with the next handoff
   count; a copy already there with that count is left alone (a retried handoff);
2. send ``Envelope(run_id, version in the target store, target)`` to the target's queue;
3. mark the home copy ``owner=target`` (best effort).

A crash before 2 leaves the home copy unchanged and the incoming message unacknowledged: it is
delivered again, the worker reaches the same handoff and repeats it (step 1 finds the copy and
re-sends). A crash after 2 and before 3 does the same; the target may then receive two
envelopes, and the second finds the run at another version and is dropped, or simply continues
it. Nothing executes twice: calls are claimed by compare-and-swap in the owner's store, and a
re-sent call carries the same idempotency key.

The home copy after 3 is a forwarding record: it names the cloud that holds the live state.
"""

from __future__ import annotations

import logging

from core.domain import Run
from core.errors import ConflictError, NotFoundError
from core.state.base import RunStore

log = logging.getLogger("paddock.replica")


def replicate(run: Run, target: RunStore) -> int:
    """Write ``run`` (with its steps) into ``target`` unless an equal or newer copy is there.

    Returns the run's version in ``target``.
    """
    try:
        there = target.get_run(run.id, with_steps=False)
    except NotFoundError:
        try:
            return target.create_run(run).version
        except ConflictError:  # another worker's copy landed first
            there = target.get_run(run.id, with_steps=False)
    if there.handoffs >= run.handoffs:
        return there.version
    copy = run.model_copy(update={"version": there.version})
    return target.checkpoint(copy, expected_version=there.version, steps=run.steps).version


def moved_copy(run: Run, target: str) -> Run:
    """The run as it is handed to ``target``: owned by it, one handoff further."""
    return run.model_copy(update={"owner": target, "handoffs": run.handoffs + 1})


def mark_moved(home: RunStore, run: Run, moved: Run) -> None:
    """Turn the home copy into a forwarding record (best effort: it may have moved on)."""
    try:
        home.checkpoint(moved.model_copy(update={"steps": []}), expected_version=run.version)
    except ConflictError:
        log.info("run %s moved on at home while it was handed to %s", run.id, moved.owner)
