"""Where runs, payloads and work messages live: the store and the queues of both clouds."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from core.settings._base import EnvGroup, Lowered

StoreKind = Literal["memory", "dynamodb", "table"]


class StorageSettings(EnvGroup):
    """The run store, the payload store and the work queues (``core.state``, ``core.queue``).

    A worker names the other cloud's queue too when it hands runs over.
    """

    store: Annotated[StoreKind, Lowered] = Field(default="memory", validation_alias="PADDOCK_STORE")
    """PADDOCK_STORE: ``memory`` (one process), ``dynamodb`` (AWS) or ``table`` (Azure Table
    Storage or Cosmos DB for Table)."""
    dynamodb_table: str = Field(default="paddock", validation_alias="PADDOCK_DYNAMODB_TABLE")
    """PADDOCK_DYNAMODB_TABLE: the single DynamoDB table."""
    payload_bucket: str | None = Field(default=None, validation_alias="PADDOCK_PAYLOAD_BUCKET")
    """PADDOCK_PAYLOAD_BUCKET: the S3 bucket for payloads over DynamoDB's item limit."""
    sqs_queue_url: str | None = Field(default=None, validation_alias="PADDOCK_SQS_QUEUE_URL")
    """PADDOCK_SQS_QUEUE_URL: the AWS work queue."""
    aws_endpoint_url: str | None = Field(default=None, validation_alias="PADDOCK_AWS_ENDPOINT_URL")
    """PADDOCK_AWS_ENDPOINT_URL: a moto server for local runs (never set in the cloud)."""
    table_name: str = Field(default="paddockruns", validation_alias="PADDOCK_TABLE_NAME")
    """PADDOCK_TABLE_NAME: the Azure Table / Cosmos DB for Table table."""
    table_endpoint: str | None = Field(default=None, validation_alias="PADDOCK_TABLE_ENDPOINT")
    """PADDOCK_TABLE_ENDPOINT: the Table service URL, used with managed identity."""
    queue_endpoint: str | None = Field(default=None, validation_alias="PADDOCK_QUEUE_ENDPOINT")
    """PADDOCK_QUEUE_ENDPOINT: the Queue service URL, used with managed identity."""
    blob_endpoint: str | None = Field(default=None, validation_alias="PADDOCK_BLOB_ENDPOINT")
    """PADDOCK_BLOB_ENDPOINT: the Blob service URL for large payloads."""
    azure_connection_string: str | None = Field(
        default=None, validation_alias="PADDOCK_AZURE_CONNECTION_STRING", repr=False
    )
    """PADDOCK_AZURE_CONNECTION_STRING: the local emulator (Azurite) only, never in the cloud;
    it holds an account key."""
    queue_name: str = Field(default="paddock-work", validation_alias="PADDOCK_QUEUE_NAME")
    """PADDOCK_QUEUE_NAME: the Azure Storage work queue (the Functions trigger binds it too)."""
    blob_container: str = Field(
        default="paddock-payloads", validation_alias="PADDOCK_BLOB_CONTAINER"
    )
    """PADDOCK_BLOB_CONTAINER: the blob container for large payloads."""
