"""A scripted planner: plays back a list of moves. A test double shipped with the package."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from core.domain import Plan
from core.errors import PlannerError
from core.planner.base import PlanContext

Move = Plan | Callable[[PlanContext], Plan]


class ScriptedPlanner:
    """Returns the scripted moves in order; raises ``PlannerError`` when they run out."""

    def __init__(self, moves: Sequence[Move], *, label: str = "scripted planner") -> None:
        self._moves = list(moves)
        self._label = label
        self.contexts: list[PlanContext] = []

    @property
    def label(self) -> str:
        return self._label

    def plan(self, ctx: PlanContext) -> Plan:
        self.contexts.append(ctx)
        if not self._moves:
            raise PlannerError("the scripted planner has no more moves")
        move = self._moves.pop(0)
        return move(ctx) if callable(move) else move.model_copy(deep=True)
