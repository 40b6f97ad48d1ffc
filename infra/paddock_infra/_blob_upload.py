"""Upload a file to a blob with the deployer's Entra identity (a Pulumi dynamic resource).

The stack's storage account refuses shared keys, and azure-native's ``storage.Blob`` uploads
with the account key (pulumi/pulumi-azure-native#2015), so the program uploads the package
itself with ``DefaultAzureCredential`` (``az login``, a service principal, or workload
identity in CI). The deployer is granted Storage Blob Data Contributor on the one container;
a fresh assignment takes a minute or two to apply, so a 403 is retried for a while.

The resource's identity is the blob URL plus the file's SHA-256: the same bytes at the same URL
is no change (nothing uploaded); new bytes at the same URL are an update (uploaded again); a new
URL is a replacement (upload, then delete the old blob).
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ResourceProvider, UpdateResult

RETRY_SECONDS = 300
"""How long a 403 (a role assignment not yet in effect) is retried."""


class BlobUploadProvider(ResourceProvider):
    """Create/update upload the file; delete removes the blob (a missing blob is fine)."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        _upload(props["url"], props["path"])
        return CreateResult(id_=props["url"], outs=dict(props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = ["url"] if olds.get("url") != news.get("url") else []
        changed = bool(replaces) or olds.get("sha256") != news.get("sha256")
        return DiffResult(changes=changed, replaces=replaces, delete_before_replace=False)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        _upload(news["url"], news["path"])
        return UpdateResult(outs=dict(news))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        from azure.core.exceptions import ResourceNotFoundError

        with contextlib.suppress(ResourceNotFoundError):
            _client(props["url"]).delete_blob()


def _client(url: str) -> Any:
    from azure.identity import DefaultAzureCredential
    from azure.storage.blob import BlobClient

    return BlobClient.from_blob_url(url, credential=DefaultAzureCredential())


def _upload(url: str, path: str) -> None:
    from azure.core.exceptions import HttpResponseError
    from azure.storage.blob import ContentSettings

    deadline = time.monotonic() + RETRY_SECONDS
    while True:
        try:
            with open(path, "rb") as data:
                _client(url).upload_blob(
                    data,
                    overwrite=True,
                    content_settings=ContentSettings(content_type="application/zip"),
                )
            return
        except HttpResponseError as exc:
            if exc.status_code != 403 or time.monotonic() > deadline:
                raise
            time.sleep(10)


class PackageBlob(pulumi.dynamic.Resource):
    """``path`` uploaded to ``url`` (``sha256`` decides whether it changed)."""

    url: pulumi.Output[str]
    sha256: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        url: pulumi.Input[str],
        path: str,
        sha256: str,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            BlobUploadProvider(),
            name,
            {"url": url, "path": path, "sha256": sha256},
            opts,
        )
