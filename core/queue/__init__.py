"""At-least-once task queues carrying run ``Envelope``s: SQS, Azure Storage Queue, memory."""

from __future__ import annotations

from core.queue.azure import AzureStorageQueue, azure_queue_client
from core.queue.base import (
    Cloud,
    Envelope,
    EnvelopeKind,
    QueueBackend,
    ReceivedMessage,
    TaskQueue,
)
from core.queue.factory import queue_from_settings
from core.queue.memory import MemoryQueue
from core.queue.sqs import SqsQueue, SqsQueues, create_sqs_queue

__all__ = [
    "AzureStorageQueue",
    "Cloud",
    "Envelope",
    "EnvelopeKind",
    "MemoryQueue",
    "QueueBackend",
    "ReceivedMessage",
    "SqsQueue",
    "SqsQueues",
    "TaskQueue",
    "azure_queue_client",
    "create_sqs_queue",
    "queue_from_settings",
]
