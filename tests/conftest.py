"""Shared emulator fixtures: a moto server (AWS) and Azurite (Azure), one pair per session.

``scripts/test`` starts both and exports PADDOCK_AWS_ENDPOINT_URL and
PADDOCK_AZURE_CONNECTION_STRING; a plain ``pytest`` starts them here, lazily (only when a test
asks for them), and stops them at the end of the session.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "eu-central-1",
    "AWS_REGION": "eu-central-1",
}
REGION = "eu-central-1"


def _helper() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "_paddock_emulators", ROOT / "scripts" / "_emulators.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def emulators(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The emulators' endpoints: from the environment, or started for this session."""
    given = {
        k: os.environ.get(k, "")
        for k in ("PADDOCK_AWS_ENDPOINT_URL", "PADDOCK_AZURE_CONNECTION_STRING")
    }
    if all(given.values()):
        yield given
        return
    helper = _helper()
    state = tmp_path_factory.mktemp("emulators")
    values: dict[str, str] = helper.start(state)
    try:
        yield values
    finally:
        helper.stop(state, quiet=True)


@pytest.fixture(scope="session")
def moto_endpoint(emulators: dict[str, str]) -> Iterator[str]:
    """URL of the moto server, with fake AWS credentials in the environment."""
    logging.getLogger("botocore").setLevel(logging.WARNING)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in FAKE_AWS.items():
            patch.setenv(name, value)
        yield emulators["PADDOCK_AWS_ENDPOINT_URL"]


@pytest.fixture(scope="session")
def azurite_connection_string(emulators: dict[str, str]) -> str:
    return emulators["PADDOCK_AZURE_CONNECTION_STRING"]


@pytest.fixture(scope="session")
def aws_client(moto_endpoint: str) -> Callable[[str], Any]:
    """``aws_client("sqs")``: a boto3 client on the moto server."""
    import boto3

    def make(service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=moto_endpoint,
            region_name=REGION,  # type: ignore[call-overload]
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    return make


@pytest.fixture(scope="session")
def payload_bucket(aws_client: Callable[[str], Any]) -> tuple[Any, str]:
    """An S3 client and a bucket for claim-checked payloads."""
    s3 = aws_client("s3")
    bucket = f"paddock-payloads-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    return s3, bucket


@pytest.fixture(scope="session")
def blob_container(azurite_connection_string: str) -> Any:
    from azure.storage.blob import BlobServiceClient

    service = BlobServiceClient.from_connection_string(azurite_connection_string)
    container = service.get_container_client(f"payloads{uuid.uuid4().hex[:8]}")
    container.create_container()
    return container


def unique(prefix: str) -> str:
    """A fresh resource name (letters and digits, as Azure tables need)."""
    return f"{prefix}{uuid.uuid4().hex[:12]}"


@pytest.fixture
def dynamodb_store(
    aws_client: Callable[[str], Any], payload_bucket: tuple[Any, str]
) -> Iterator[Any]:
    from core.state.dynamodb import DynamoDBStore

    client = aws_client("dynamodb")
    s3, bucket = payload_bucket
    store = DynamoDBStore(client, unique("runs"), s3_client=s3, bucket=bucket)
    store.create_table()
    yield store
    client.delete_table(TableName=store.table_name)


@pytest.fixture
def table_store(azurite_connection_string: str, blob_container: Any) -> Iterator[Any]:
    from azure.data.tables import TableServiceClient

    from core.state.table import TableStore

    service = TableServiceClient.from_connection_string(azurite_connection_string)
    store = TableStore(service, unique("runs"), blob_container_client=blob_container)
    store.create_table()
    yield store
    service.delete_table(store.table_name)


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Any]:
    from core.state.sqlite import SqliteStore

    store = SqliteStore(tmp_path / "state.db")
    yield store
    store.close()


@pytest.fixture(params=["memory", "sqlite", "dynamodb", "table"])
def store(request: pytest.FixtureRequest) -> Any:
    """One fresh ``RunStore`` per test, for every backend: the contract suite's subject."""
    if request.param == "memory":
        from core.state.memory import MemoryStore

        return MemoryStore()
    return request.getfixturevalue(f"{request.param}_store")
