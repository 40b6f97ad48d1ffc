"""In-process ``TaskQueue``: the local default and the reference for the queue tests."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from core.queue.base import Envelope, QueueBackend, RawMessage, ReceivedMessage


@dataclass
class _Slot:
    body: str
    message_id: str
    visible_at: float
    receive_count: int = 0
    receipt: str = ""


class MemoryQueue(QueueBackend):
    """Thread-safe; time comes from ``clock`` so tests need not sleep.

    Poison messages (undecodable, or delivered more than ``max_receives`` times) go to
    ``dead_letters``.
    """

    def __init__(
        self, *, max_receives: int = 5, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__(max_receives=max_receives)
        self._clock = clock
        self._lock = threading.Lock()
        self._slots: dict[str, _Slot] = {}
        self.dead_letters: list[str] = []
        """Bodies of poison messages, oldest first."""

    def send(self, envelope: Envelope, delay_seconds: int = 0) -> str:
        return self.send_raw(envelope.to_json(), delay_seconds)

    def send_raw(self, body: str, delay_seconds: int = 0) -> str:
        """Enqueue any text (tests use it to inject poison)."""
        message_id = uuid.uuid4().hex
        with self._lock:
            self._slots[message_id] = _Slot(body, message_id, self._clock() + delay_seconds)
        return message_id

    def _receive(self, max_messages: int, visibility_timeout: int) -> list[RawMessage]:
        now = self._clock()
        out: list[RawMessage] = []
        with self._lock:
            for slot in self._slots.values():
                if len(out) >= max_messages:
                    break
                if slot.visible_at > now:
                    continue
                slot.receive_count += 1
                slot.receipt = uuid.uuid4().hex
                slot.visible_at = now + visibility_timeout
                out.append(RawMessage(slot.body, slot.message_id, slot.receive_count, slot.receipt))
        return out

    def _poison(self, raw: RawMessage) -> None:
        with self._lock:
            slot = self._slots.get(raw.message_id)
            if slot is not None and slot.receipt == raw.receipt:
                del self._slots[raw.message_id]
                self.dead_letters.append(slot.body)

    def ack(self, message: ReceivedMessage) -> None:
        with self._lock:
            slot = self._slots.get(message.message_id)
            if slot is not None and slot.receipt == message.receipt:
                del self._slots[message.message_id]

    def release(self, message: ReceivedMessage, delay_seconds: int = 0) -> None:
        with self._lock:
            slot = self._slots.get(message.message_id)
            if slot is not None and slot.receipt == message.receipt:
                slot.visible_at = self._clock() + delay_seconds

    def __len__(self) -> int:
        with self._lock:
            return len(self._slots)
