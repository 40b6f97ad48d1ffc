"""What a planner proposes: tool calls, a final answer, or a request for help."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from core.domain.run import Usage


class ProposedCall(BaseModel):
    """One tool call the planner wants to make."""

    id: str
    tool: str
    args: dict[str, Any] = Field(default_factory=dict)


class Plan(BaseModel):
    """What the planner decided this turn: calls, a final answer, or a request for help."""

    reasoning: str = ""
    confidence: float | None = None
    calls: list[ProposedCall] = Field(default_factory=list)
    final_answer: str | None = None
    help_request: str | None = None
    usage: Usage = Field(default_factory=Usage)
    model: str | None = None
