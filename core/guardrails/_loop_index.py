"""Incremental loop detection: the finished part of a run's history is folded once and kept.

The loop checks run several times per step over the whole history; recomputing them made a
step's cost grow with the length of the run. Steps that finished long enough ago no longer
change, so their contribution (how often each call was proposed, which outcomes were seen, the
idle streak) is kept per run id and only the newer steps are looked at each time. A cached
prefix is used only while the run still holds the very same step objects, so a reloaded or
different run is folded afresh.
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from core.domain import CallRecord, Run, Step, StepStatus

MAX_RUNS = 512
UNSETTLED = 2
"""The newest steps are never folded: they may still change (approvals, drift, retries)."""

CallKey = Callable[[CallRecord], str]
Observed = Callable[[CallRecord], str | None]


@dataclass
class _Fold:
    length: int = 0
    anchor: Step | None = None
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    best: tuple[int, str] = (0, "")
    seen: set[str] = field(default_factory=set)
    streak: int = 0


@dataclass(frozen=True)
class LoopState:
    repeats: int
    """How often the most repeated call (tool + arguments) was proposed."""
    tool: str
    idle: int
    """Finished steps in a row at the end that brought nothing new."""


_folds: OrderedDict[str, _Fold] = OrderedDict()
_lock = threading.Lock()


def loop_state(run: Run, key: CallKey, observed: Observed) -> LoopState:
    steps = run.steps
    limit = len(steps) - UNSETTLED
    with _lock:
        fold = _folds.get(run.id)
        if (
            fold is None
            or fold.length > max(0, limit)
            or (fold.length and steps[fold.length - 1] is not fold.anchor)
        ):
            fold = _Fold()
        settled = fold.length
        while settled < limit and steps[settled].status is StepStatus.DONE:
            settled += 1
        for step in steps[fold.length : settled]:
            _add(fold, step, key, observed)
        fold.length = max(fold.length, settled)
        fold.anchor = steps[fold.length - 1] if fold.length else None
        _folds[run.id] = fold
        _folds.move_to_end(run.id)
        while len(_folds) > MAX_RUNS:
            _folds.popitem(last=False)
        return _finish(fold, steps[fold.length :], key, observed)


def _add(fold: _Fold, step: Step, key: CallKey, observed: Observed) -> None:
    for call in step.calls:
        k = (call.tool, key(call))
        fold.counts[k] += 1
        if fold.counts[k] > fold.best[0]:
            fold.best = (fold.counts[k], call.tool)
    fold.streak = _streak_after(step, fold.streak, fold.seen, set(), observed, commit=True)


def _finish(fold: _Fold, rest: list[Step], key: CallKey, observed: Observed) -> LoopState:
    extra: Counter[tuple[str, str]] = Counter((c.tool, key(c)) for s in rest for c in s.calls)
    best = fold.best
    for (tool, h), n in extra.items():
        total = fold.counts.get((tool, h), 0) + n
        if total > best[0]:
            best = (total, tool)
    streak, fresh = fold.streak, set[str]()
    for step in rest:
        streak = _streak_after(step, streak, fold.seen, fresh, observed, commit=False)
    return LoopState(repeats=best[0], tool=best[1], idle=streak)


def _streak_after(
    step: Step, streak: int, seen: set[str], fresh: set[str], observed: Observed, *, commit: bool
) -> int:
    if step.status is not StepStatus.DONE:
        return streak
    if step.final_answer is not None or step.help_request is not None:
        return 0
    news = False
    for call in step.calls:
        text = observed(call)
        if text is not None and text not in seen and text not in fresh:
            (seen if commit else fresh).add(text)
            news = True
    return 0 if news else streak + 1
