"""Hooks for watching a run advance (live CLI output, tracing, metrics)."""

from __future__ import annotations

from typing import Protocol

from core.domain import CallRecord, Run, Step


class RunObserver(Protocol):
    def step_planned(self, run: Run, step: Step) -> None: ...

    def call_decided(self, run: Run, step: Step, call: CallRecord) -> None: ...

    def call_finished(self, run: Run, step: Step, call: CallRecord) -> None: ...

    def run_paused(self, run: Run) -> None: ...

    def run_finished(self, run: Run) -> None: ...


class NullObserver:
    """Watches nothing."""

    def step_planned(self, run: Run, step: Step) -> None:
        return None

    def call_decided(self, run: Run, step: Step, call: CallRecord) -> None:
        return None

    def call_finished(self, run: Run, step: Step, call: CallRecord) -> None:
        return None

    def run_paused(self, run: Run) -> None:
        return None

    def run_finished(self, run: Run) -> None:
        return None
