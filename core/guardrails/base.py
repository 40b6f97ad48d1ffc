"""The guard hook: every proposed call gets a ``Decision`` before anything executes."""

from __future__ import annotations

import uuid
from typing import Protocol

from core.domain import Decision, ProposedCall, Run, Tool, Verdict


def new_decision_id() -> str:
    return "dec_" + uuid.uuid4().hex[:16]


class Guard(Protocol):
    """Decides on one proposed call. Never raises for a bad call: it returns a deny."""

    def check(
        self, run: Run, tool: Tool | None, call: ProposedCall, *, confidence: float | None = None
    ) -> Decision:
        """``tool`` is ``None`` when the call names no tool in the run's catalog.

        ``run.steps`` holds the history (for provenance); the step being planned is not in it.
        """
        ...


class PassThroughGuard:
    """Allows every call to a known tool. For tests of the loop only."""

    def check(
        self, run: Run, tool: Tool | None, call: ProposedCall, *, confidence: float | None = None
    ) -> Decision:
        if tool is None:
            return Decision(
                id=new_decision_id(),
                verdict=Verdict.DENY,
                reasons=[f"unknown tool {call.tool!r}"],
                rule_ids=["unknown_tool"],
            )
        return Decision(id=new_decision_id(), verdict=Verdict.ALLOW)
