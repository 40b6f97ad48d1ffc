"""Build the configured ``RunStore`` from ``StorageSettings`` (clients built here, never at
import)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, overload

from core.errors import ConfigError
from core.settings import StorageSettings
from core.state.base import RunStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient


def store_from_settings(settings: StorageSettings) -> RunStore:
    """``memory``, ``dynamodb`` or ``table``, per ``PADDOCK_STORE``.

    Local emulators: ``PADDOCK_AWS_ENDPOINT_URL`` (moto) and ``PADDOCK_AZURE_CONNECTION_STRING``
    (Azurite). In the cloud: the default boto3 credential chain, or ``DefaultAzureCredential``
    with ``PADDOCK_TABLE_ENDPOINT`` / ``PADDOCK_BLOB_ENDPOINT``.
    """
    kind = settings.store
    if kind == "memory":
        from core.state.memory import MemoryStore

        return MemoryStore()
    if kind == "dynamodb":
        return _dynamodb(settings)
    if kind == "table":
        return _table(settings)
    raise ConfigError(f"unknown PADDOCK_STORE {settings.store!r}: memory, dynamodb or table")


@overload
def aws_client(service: Literal["dynamodb"], settings: StorageSettings) -> DynamoDBClient: ...
@overload
def aws_client(service: Literal["s3"], settings: StorageSettings) -> S3Client: ...
@overload
def aws_client(service: Literal["sqs"], settings: StorageSettings) -> SQSClient: ...
def aws_client(
    service: Literal["dynamodb", "s3", "sqs"], settings: StorageSettings
) -> DynamoDBClient | S3Client | SQSClient:
    """A boto3 client, pointed at the moto server when ``aws_endpoint_url`` is set."""
    import boto3

    return boto3.client(service, endpoint_url=settings.aws_endpoint_url or None)


def _dynamodb(settings: StorageSettings) -> RunStore:
    from core.state.dynamodb import DynamoDBStore

    s3 = aws_client("s3", settings) if settings.payload_bucket else None
    return DynamoDBStore(
        aws_client("dynamodb", settings),
        settings.dynamodb_table,
        s3_client=s3,
        bucket=settings.payload_bucket,
    )


def _table(settings: StorageSettings) -> RunStore:
    from azure.data.tables import TableServiceClient
    from azure.storage.blob import BlobServiceClient

    from core.state.table import TableStore

    conn = settings.azure_connection_string
    if conn:
        service = TableServiceClient.from_connection_string(conn)
        blobs: BlobServiceClient | None = BlobServiceClient.from_connection_string(conn)
    elif settings.table_endpoint:
        from azure.identity import DefaultAzureCredential

        credential = DefaultAzureCredential()
        service = TableServiceClient(endpoint=settings.table_endpoint, credential=credential)
        blobs = (
            BlobServiceClient(account_url=settings.blob_endpoint, credential=credential)
            if settings.blob_endpoint
            else None
        )
    else:
        raise ConfigError(
            "PADDOCK_STORE=table needs PADDOCK_TABLE_ENDPOINT or PADDOCK_AZURE_CONNECTION_STRING"
        )
    container = blobs.get_container_client(settings.blob_container) if blobs else None
    return TableStore(service, settings.table_name, blob_container_client=container)
