"""The change records a spec diff produces."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel


class Level(StrEnum):
    BREAKING = "breaking"
    WARNING = "warning"
    """Potentially breaking: some clients break (e.g. an optional response field removed)."""
    INFO = "info"


class Change(BaseModel):
    operation: str
    """``METHOD /path`` (and the operationId in brackets when there is one)."""
    location: str
    """``parameter query:status``, ``request body $.age``, ``response 200 $.data.id``, ..."""
    kind: str
    level: Level
    message: str
    hint: str | None = None

    @property
    def breaking(self) -> bool:
        return self.level is Level.BREAKING

    def as_json(self) -> dict[str, object]:
        return {
            "operation": self.operation,
            "location": self.location,
            "kind": self.kind,
            "breaking": self.breaking,
            "level": self.level.value,
            "message": self.message,
            **({"hint": self.hint} if self.hint else {}),
        }
