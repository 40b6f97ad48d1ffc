"""Claim-check payload stores: where heads and steps too large for a record are kept.

Keys are content-addressed (``runs/<run id>/<sha256>.json``), so writing one is idempotent and
a losing writer never overwrites a payload that a committed record points at. Orphans (written
by a checkpoint that then lost its race) are left for a lifecycle rule on the ``runs/`` prefix.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

from core.errors import BackendError

if TYPE_CHECKING:
    from azure.storage.blob import ContainerClient
    from mypy_boto3_s3 import S3Client


@runtime_checkable
class PayloadStore(Protocol):
    """Blob storage for claim-checked payloads."""

    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key`` (overwriting is fine: keys are content hashes)."""
        ...

    def get(self, key: str) -> bytes:
        """The bytes under ``key``; raises ``BackendError`` when missing."""
        ...


class S3Payloads:
    """Payloads in one S3 bucket (boto3 client injected)."""

    def __init__(self, client: S3Client, bucket: str, *, prefix: str = "") -> None:
        self._client = client
        self.bucket = bucket
        self._prefix = prefix

    def put(self, key: str, data: bytes) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._client.put_object(
                Bucket=self.bucket,
                Key=self._prefix + key,
                Body=data,
                ContentType="application/json",
            )
        except (BotoCoreError, ClientError) as exc:
            raise BackendError(f"s3 put {key}: {exc}") from exc

    def get(self, key: str) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            found = self._client.get_object(Bucket=self.bucket, Key=self._prefix + key)
            return bytes(found["Body"].read())
        except (BotoCoreError, ClientError) as exc:
            raise BackendError(f"s3 get {key}: {exc}") from exc


class BlobPayloads:
    """Payloads in one Azure Blob container (``ContainerClient`` injected)."""

    def __init__(self, container_client: ContainerClient) -> None:
        self._container = container_client

    def put(self, key: str, data: bytes) -> None:
        from azure.core.exceptions import AzureError

        try:
            self._container.upload_blob(key, data, overwrite=True)
        except AzureError as exc:
            raise BackendError(f"blob put {key}: {exc}") from exc

    def get(self, key: str) -> bytes:
        from azure.core.exceptions import AzureError

        try:
            return bytes(self._container.download_blob(key).readall())
        except AzureError as exc:
            raise BackendError(f"blob get {key}: {exc}") from exc
