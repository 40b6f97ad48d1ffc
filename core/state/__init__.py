"""Durable, concurrency-safe run state behind one ``RunStore`` contract.

Backends: ``MemoryStore`` (reference), ``SqliteStore`` (local, survives restarts, shared by
processes), ``DynamoDBStore`` and ``TableStore`` (Azure Table / Cosmos DB for Table), all built
on ``PersistentStore``; the last two claim-check large payloads to S3 / Blob Storage.
"""

from __future__ import annotations

from core.state.base import (
    KILL_GLOBAL,
    Counter,
    RunPage,
    RunStore,
    kill_scope_run,
    kill_scope_tenant,
)
from core.state.dynamodb import DynamoDBStore, create_dynamodb_table
from core.state.factory import aws_client, store_from_settings
from core.state.memory import MemoryStore
from core.state.payloads import BlobPayloads, PayloadStore, S3Payloads
from core.state.persistent import PersistentStore
from core.state.sqlite import SqliteStore
from core.state.table import TableStore

__all__ = [
    "KILL_GLOBAL",
    "BlobPayloads",
    "Counter",
    "DynamoDBStore",
    "MemoryStore",
    "PayloadStore",
    "PersistentStore",
    "RunPage",
    "RunStore",
    "S3Payloads",
    "SqliteStore",
    "TableStore",
    "aws_client",
    "create_dynamodb_table",
    "kill_scope_run",
    "kill_scope_tenant",
    "store_from_settings",
]
