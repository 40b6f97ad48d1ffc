"""The task-queue contract: an ``Envelope`` that names a run and the version it expects,
a ``TaskQueue`` protocol, and the base class the backends share.

Delivery is at least once. A duplicate or stale envelope is harmless by construction: the
worker compares ``expected_version`` with the stored run and drops the message when they differ
(the store's CAS is the final word).
"""

from __future__ import annotations

import logging
import re
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from core.domain import utcnow

log = logging.getLogger(__name__)
Cloud = Literal["aws", "azure", "local"]
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")


class EnvelopeKind(StrEnum):
    ADVANCE = "advance"
    """Run the next step of ``run_id`` (also: continue after a handoff)."""
    RESUME = "resume"
    """A human decided an approval; continue the paused run."""
    CHILD_DONE = "child_done"
    """Child run ``child_id`` finished; wake its parent ``run_id``."""
    EVENTS = "events"
    """Deliver the events ``run_id`` owes (``core.events``); never advances the run."""


class Envelope(BaseModel):
    """One unit of work on a queue. Small (well under the 64 KiB queue message limit)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    run_id: str
    expected_version: int = Field(ge=0)
    """The run version the sender committed; a worker that finds another version drops it."""
    target: Cloud
    """The cloud whose worker should take this message."""
    kind: EnvelopeKind = EnvelopeKind.ADVANCE
    traceparent: str | None = None
    """W3C trace context of the sender, so the trace continues across clouds."""
    attempt: int = Field(default=1, ge=1)
    """Delivery attempt as the application counts it (re-sends after a failed step)."""
    parent_id: str | None = None
    """The parent run to notify when this run finishes (sub-runs)."""
    child_id: str | None = None
    """For ``child_done``: which child finished."""
    deferrals: int = Field(default=0, ge=0)
    """Times in a row this run was put back for lack of budget (recorded on its next step)."""
    deferred_reason: str | None = Field(default=None, max_length=500)
    sender: Cloud | None = None
    """The cloud that sent the message (handoff bookkeeping, traces)."""
    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    """Message id for logs and deduplication; stable across re-deliveries."""
    sent_at: datetime = Field(default_factory=utcnow)
    schema_version: int = 1

    @field_validator("traceparent")
    @classmethod
    def _check_traceparent(cls, value: str | None) -> str | None:
        if value is not None and not _TRACEPARENT.match(value):
            raise ValueError(f"not a W3C traceparent: {value!r}")
        return value

    def to_json(self) -> str:
        return self.model_dump_json(exclude_none=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> Envelope:
        return cls.model_validate_json(text)

    def retry(self) -> Envelope:
        """The same work, one attempt later."""
        return self.model_copy(update={"attempt": self.attempt + 1, "sent_at": utcnow()})


@dataclass(frozen=True)
class ReceivedMessage:
    """A delivered envelope and what the queue needs to ack or release it."""

    envelope: Envelope
    message_id: str
    receive_count: int
    """How many times the queue has delivered this message (1 on first delivery)."""
    receipt: Any
    """Backend token (SQS receipt handle, Azure pop receipt); opaque to callers."""


@runtime_checkable
class TaskQueue(Protocol):
    """At-least-once work queue of ``Envelope``s."""

    def send(self, envelope: Envelope, delay_seconds: int = 0) -> str:
        """Enqueue; the message becomes visible after ``delay_seconds``. Returns its id."""
        ...

    def receive(self, max_messages: int = 1, visibility_timeout: int = 30) -> list[ReceivedMessage]:
        """Up to ``max_messages`` visible messages, hidden from others for
        ``visibility_timeout`` seconds. Poison messages are moved aside, never returned."""
        ...

    def ack(self, message: ReceivedMessage) -> None:
        """Done: delete the message. A stale receipt (redelivered meanwhile) is a no-op."""
        ...

    def release(self, message: ReceivedMessage, delay_seconds: int = 0) -> None:
        """Not done: make the message visible again after ``delay_seconds``."""
        ...


@dataclass(frozen=True)
class RawMessage:
    body: str
    message_id: str
    receive_count: int
    receipt: Any


class QueueBackend(ABC):
    """Shared receive logic: decode envelopes, set poison messages aside.

    Args:
        max_receives: a message delivered more often than this is poison.
    """

    def __init__(self, *, max_receives: int = 5) -> None:
        self.max_receives = max_receives

    def receive(self, max_messages: int = 1, visibility_timeout: int = 30) -> list[ReceivedMessage]:
        out: list[ReceivedMessage] = []
        for raw in self._receive(max(1, max_messages), visibility_timeout):
            envelope = self._decode(raw)
            if envelope is None or raw.receive_count > self.max_receives:
                log.warning(
                    "poison message %s (delivered %d times)", raw.message_id, raw.receive_count
                )
                self._poison(raw)
                continue
            out.append(
                ReceivedMessage(
                    envelope=envelope,
                    message_id=raw.message_id,
                    receive_count=raw.receive_count,
                    receipt=raw.receipt,
                )
            )
        return out

    @staticmethod
    def _decode(raw: RawMessage) -> Envelope | None:
        try:
            return Envelope.from_json(raw.body)
        except (ValidationError, ValueError):
            return None

    @abstractmethod
    def _receive(self, max_messages: int, visibility_timeout: int) -> list[RawMessage]:
        """Fetch and hide up to ``max_messages`` messages."""

    @abstractmethod
    def _poison(self, raw: RawMessage) -> None:
        """Move a poison message to the dead-letter place (or leave it to the service)."""
