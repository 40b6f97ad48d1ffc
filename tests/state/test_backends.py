"""What only the persistent backends do: claim-check budgets, TTL, ETag cache, index repair,
the factory."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from core.domain import CallRecord, Run, RunStatus, Step
from core.errors import BackendError, ConfigError, ConflictError
from core.settings import StorageSettings
from core.state import (
    DynamoDBStore,
    MemoryStore,
    PersistentStore,
    RunStore,
    TableStore,
    store_from_settings,
)

pytestmark = pytest.mark.emulators


def run_with_id() -> Run:
    return Run(id=f"run-{uuid.uuid4().hex[:10]}", goal="g", status=RunStatus.RUNNING)


def fat_step(index: int, size: int) -> Step:
    return Step(index=index, calls=[CallRecord(call_id=str(index), tool="t", result="x" * size)])


@pytest.fixture(params=["dynamodb", "table"])
def persistent(request: pytest.FixtureRequest) -> PersistentStore:
    store: PersistentStore = request.getfixturevalue(f"{request.param}_store")
    return store


def test_oversized_record_without_payload_store_is_refused(persistent: PersistentStore) -> None:
    bare: PersistentStore
    if isinstance(persistent, DynamoDBStore):
        bare = DynamoDBStore(persistent._client, persistent.table_name)
    else:
        assert isinstance(persistent, TableStore)
        bare = TableStore(persistent._service, persistent.table_name)
    run = bare.create_run(run_with_id())
    with pytest.raises(BackendError, match="payload store"):
        bare.checkpoint(run, expected_version=1, steps=[fat_step(0, 600_000)])
    assert bare.get_run(run.id).version == 1


def test_checkpoint_over_the_transaction_budget_claims_the_largest(
    persistent: PersistentStore,
) -> None:
    run = persistent.create_run(run_with_id())
    steps = [fat_step(i, 150_000) for i in range(24)] + [fat_step(24, 900)]
    persistent.checkpoint(run, expected_version=1, steps=steps)
    got = persistent.get_run(run.id)
    assert [len(s.calls[0].result) for s in got.steps] == [150_000] * 24 + [900]
    records = persistent._read_run(run.id)[1]
    claimed = [r.index for r in records if r.body.claim]
    assert claimed and 24 not in claimed and len(claimed) < 24


def test_too_many_steps_in_one_checkpoint(persistent: PersistentStore) -> None:
    run = persistent.create_run(run_with_id())
    with pytest.raises(BackendError, match="at most 99"):
        persistent.checkpoint(run, expected_version=1, steps=[Step(index=i) for i in range(100)])


def test_dynamodb_ttl_on_finished_runs(dynamodb_store: DynamoDBStore) -> None:
    run = dynamodb_store.create_run(run_with_id())
    client, table = dynamodb_store._client, dynamodb_store.table_name

    def head_item() -> dict[str, Any]:
        key = {"PK": {"S": f"RUN#{run.id}"}, "SK": {"S": "HEAD"}}
        item: dict[str, Any] = client.get_item(TableName=table, Key=key)["Item"]
        return item

    assert "expires_at" not in head_item()
    dynamodb_store.checkpoint(
        run.model_copy(update={"status": RunStatus.SUCCEEDED}), expected_version=1
    )
    expires = int(head_item()["expires_at"]["N"])
    assert abs(expires - (time.time() + 30 * 86400)) < 120


def test_table_store_with_cold_cache_and_stale_writer(table_store: TableStore) -> None:
    run = table_store.create_run(run_with_id())
    other = TableStore(table_store._service, table_store.table_name)  # another worker
    moved = other.checkpoint(run, expected_version=1, steps=[Step(index=0)])
    assert moved.version == 2
    with pytest.raises(ConflictError):  # the first store's cached ETag is stale now
        table_store.checkpoint(run, expected_version=1, steps=[Step(index=0, reasoning="x")])
    with pytest.raises(ConflictError):  # and it knows better than to try an older version
        table_store.checkpoint(run, expected_version=1)
    assert table_store.checkpoint(moved, expected_version=2).version == 3
    assert other.get_run(run.id).steps[0].reasoning == ""


def test_table_listing_repairs_a_stale_index_entry(table_store: TableStore) -> None:
    run = table_store.create_run(run_with_id())
    done = table_store.checkpoint(
        run.model_copy(update={"status": RunStatus.SUCCEEDED}), expected_version=1
    )
    # a crash between the run's transaction and its index write leaves the old status behind
    from core.state import _table_keys as keys

    stale = keys.index_entity(table_store._read_head(run.id))
    stale["status"] = RunStatus.RUNNING.value
    table_store._table.upsert_entity(stale, mode="replace")
    assert table_store.list_runs(status=RunStatus.SUCCEEDED).runs == []  # index says running
    assert table_store.list_runs(status=RunStatus.RUNNING).runs == []  # head says succeeded
    assert [r.id for r in table_store.list_runs(status=RunStatus.SUCCEEDED).runs] == [done.id]
    assert table_store.reindex() == 1


def test_store_from_settings(
    moto_endpoint: str, azurite_connection_string: str, payload_bucket: tuple[Any, str]
) -> None:
    assert isinstance(store_from_settings(StorageSettings()), MemoryStore)
    stores: list[RunStore] = []
    dynamo = store_from_settings(
        StorageSettings(
            store="dynamodb",
            aws_endpoint_url=moto_endpoint,
            dynamodb_table=f"f{uuid.uuid4().hex[:8]}",
            payload_bucket=payload_bucket[1],
        )
    )
    table = store_from_settings(
        StorageSettings(
            store="table",
            table_name=f"f{uuid.uuid4().hex[:8]}",
            azure_connection_string=azurite_connection_string,
        )
    )
    assert isinstance(dynamo, DynamoDBStore) and isinstance(table, TableStore)
    for store in (dynamo, table):
        store.create_table()
        stores.append(store)
        run = store.create_run(run_with_id())
        store.checkpoint(run, expected_version=1, steps=[Step(index=0)])
        assert store.get_run(run.id).version == 2
    with pytest.raises(ConfigError, match="PADDOCK_STORE='cassandra': choose memory"):
        store_from_settings(StorageSettings(store="cassandra"))
    with pytest.raises(ConfigError, match="PADDOCK_TABLE_ENDPOINT"):
        store_from_settings(StorageSettings(store="table"))
