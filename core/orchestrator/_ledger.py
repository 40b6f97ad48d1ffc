"""The fan-in ledger: which children of one spawning step have finished, kept apart from the
parent run so a ``child_done`` costs one small record, not a read and a rewrite of a parent
that holds a thousand child references.

One ``RunStore`` counter per parent and step (``fanin:<parent>:<step>``) holds ``total`` (the
step's children), ``unlaunched`` (a hint: children not yet sent, so finishing ones should
launch more) and one key per finished child (``"<call>-<n>"``, from its id).
Adding a key is a compare-and-set, so of two workers recording the last child exactly one sees
the ledger complete; a duplicate message finds its key already there.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from core.domain import Run, RunStatus
from core.errors import ConflictError
from core.ratelimit.bucket import RateLimitContention
from core.state.base import RunStore

_META = ("total", "unlaunched")
_ATTEMPTS = 50


MAX_PER_STEP = 2000
"""Children one step may spawn: the ledger's keys (about 14 characters each) stay under an Azure
Table property's 64 KB (32,768 UTF-16 characters)."""


def child_key(parent_id: str, child_id: str) -> tuple[int, str] | None:
    """(step index, ledger key ``"<call>-<n>"``) of a child id made by ``ChildRuns.spawn``;
    ``None`` for an id of another shape."""
    prefix = f"{parent_id}-"
    if not child_id.startswith(prefix):
        return None
    parts = child_id[len(prefix) :].split("-")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None
    return int(parts[0]), f"{parts[1]}-{parts[2]}"


def child_id(parent_id: str, step_index: int, call_index: int, n: int) -> str:
    """The id of a parent's ``n``-th child of the call at ``call_index`` of a step."""
    return f"{parent_id}-{step_index}-{call_index}-{n}"


@dataclass(frozen=True)
class Tally:
    """The ledger after a change: finished keys, and what the spawn recorded."""

    done: frozenset[str]
    total: int
    unlaunched: int
    added: bool
    """Whether this change recorded something new (``False``: a duplicate)."""

    @property
    def left(self) -> int:
        return max(0, self.total - len(self.done))


class Ledger:
    """The fan-in ledger of one parent's steps, over the run store's counters."""

    def __init__(self, store: RunStore) -> None:
        self._store = store

    @staticmethod
    def name(parent_id: str, step_index: int) -> str:
        return f"fanin:{parent_id}:{step_index}"

    def open(self, parent_id: str, step_index: int, *, total: int, unlaunched: int) -> None:
        """Record a spawn. A second spawn of the same step (a retried or raced one, same
        children) keeps the first record and what it has gathered."""
        name = self.name(parent_id, step_index)
        value = {"total": float(total), "unlaunched": float(unlaunched)}
        try:
            self._store.put_counter(name, value, etag=None)
        except ConflictError:
            return

    def read(self, parent_id: str, step_index: int) -> Tally:
        counter = self._store.get_counter(self.name(parent_id, step_index))
        return _tally(counter.value, added=False)

    def finish(self, parent_id: str, step_index: int, keys: Iterable[str]) -> Tally:
        """Add finished children; ``added`` says whether any was new."""
        return self._change(parent_id, step_index, add=set(keys))

    def hint(self, parent_id: str, step_index: int, *, unlaunched: int) -> None:
        """Correct the ``unlaunched`` hint after a launch."""
        self._change(parent_id, step_index, unlaunched=unlaunched)

    def _change(
        self,
        parent_id: str,
        step_index: int,
        *,
        add: set[str] | None = None,
        unlaunched: int | None = None,
    ) -> Tally:
        name = self.name(parent_id, step_index)
        for _ in range(_ATTEMPTS):
            counter = self._store.get_counter(name)
            value = dict(counter.value)
            new = (add or set()) - value.keys()
            if not new and (unlaunched is None or value.get("unlaunched") == unlaunched):
                return _tally(value, added=False)
            value.update(dict.fromkeys(new, 1.0))
            if unlaunched is not None:
                value["unlaunched"] = float(unlaunched)
            try:
                self._store.put_counter(name, value, etag=counter.etag)
            except ConflictError:
                continue
            return _tally(value, added=bool(new))
        raise RateLimitContention(f"could not update the fan-in ledger {name}")


def fanin_progress(store: RunStore, run: Run) -> str | None:
    """ "waiting for N child run(s): K finished" for a waiting parent, from its ledger (the
    parent's own records are brought up to date only when the last child finishes)."""
    if run.status is not RunStatus.WAITING or not run.children:
        return None
    step_index = run.children[-1].step_index
    tally = Ledger(store).read(run.id, step_index)
    total = tally.total or sum(1 for c in run.children if c.step_index == step_index)
    return f"waiting for {total} child run(s): {len(tally.done)} finished"


def _tally(value: dict[str, float], *, added: bool) -> Tally:
    return Tally(
        done=frozenset(k for k in value if k not in _META),
        total=int(value.get("total", 0)),
        unlaunched=int(value.get("unlaunched", 0)),
        added=added,
    )
