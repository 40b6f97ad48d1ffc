"""``RunStore`` on Azure Table Storage / Cosmos DB for Table (azure-data-tables).

A run's head and steps share the partition ``run:<id>``, so a checkpoint is one entity-group
transaction: the steps are upserted and the head replaced with ``If-Match: <head ETag>``. A stale
ETag fails the whole group (412) and nothing is written: the head never points at steps that do
not exist. The head's ETag is cached per run after every read and write, so a worker that read
the run checkpoints in one round trip; a cold cache costs one extra read.

Table has no secondary index: one index entity per run (partition ``index``, RowKey inverted
creation time) carries status and tenant, is upserted after a status change, and is verified
against the head when listing (a stale entry left by a crash is repaired then, or by
``reindex()``). See docs/state.md for the costs.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.domain import RunStatus
from core.errors import BackendError, ConflictError, NotFoundError
from core.state import _table_keys as keys
from core.state._records import HeadRecord, StepRecord
from core.state.payloads import BlobPayloads, PayloadStore
from core.state.persistent import PersistentStore

if TYPE_CHECKING:
    from azure.data.tables import TableEntity, TableServiceClient
    from azure.storage.blob import ContainerClient

    # One operation of ``TableClient.submit_transaction``: (kind, entity[, options]).
    _Operation = tuple[str, Mapping[str, Any]] | tuple[str, Mapping[str, Any], Mapping[str, Any]]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Seen:
    version: int
    etag: str
    status: RunStatus


class TableStore(PersistentStore):
    """Runs, steps, kill flags, idempotency records and counters in one Azure table.

    Args:
        service: a ``TableServiceClient`` (connection string for Azurite, or endpoint +
            ``DefaultAzureCredential`` for Storage / Cosmos DB for Table).
        table_name: letters and digits, at least 3 characters.
        blob_container_client: a ``ContainerClient`` for claim-checked payloads.
    """

    inline_limit = 480_000
    """UTF-16 bytes kept inline (chunked over 64 KiB properties; an entity holds 1 MiB)."""
    batch_limit = 3_500_000
    """An entity-group transaction carries at most 4 MiB."""
    cache_size = 4096

    def __init__(
        self,
        service: TableServiceClient,
        table_name: str,
        *,
        blob_container_client: ContainerClient | None = None,
        payloads: PayloadStore | None = None,
    ) -> None:
        if payloads is None and blob_container_client is not None:
            payloads = BlobPayloads(blob_container_client)
        super().__init__(payloads=payloads)
        self._service = service
        self.table_name = table_name
        self._table = service.get_table_client(table_name)
        self._seen: OrderedDict[str, _Seen] = OrderedDict()
        self._lock = threading.Lock()

    def create_table(self) -> None:
        """Create the table if it is missing (tests and local development)."""
        try:
            self._service.create_table_if_not_exists(self.table_name)
        except self._errors() as exc:
            raise BackendError(f"table create {self.table_name}: {exc}") from exc

    @staticmethod
    def _size(text: str) -> int:
        return len(text.encode("utf-16-le"))

    # -- runs --------------------------------------------------------------------------------

    def _insert(self, head: HeadRecord, steps: list[StepRecord]) -> None:
        ops: list[_Operation] = [("create", keys.head_entity(head))]
        ops += [("upsert", keys.step_entity(head.run_id, s), {"mode": "replace"}) for s in steps]
        try:
            result = self._table.submit_transaction(ops)
        except self._errors() as exc:
            if getattr(exc, "status_code", None) == 409:
                raise ConflictError(f"run {head.run_id} already exists") from exc
            raise BackendError(f"table create {head.run_id}: {exc}") from exc
        self._remember(head, result[0]["etag"])
        self._index(head)

    def _commit(self, head: HeadRecord, steps: list[StepRecord], *, expected_version: int) -> None:
        from azure.core import MatchConditions

        seen = self._current(head.run_id, expected_version)
        ops: list[_Operation] = [
            ("upsert", keys.step_entity(head.run_id, s), {"mode": "replace"}) for s in steps
        ]
        ops.append(
            (
                "update",
                keys.head_entity(head),
                {
                    "mode": "replace",
                    "etag": seen.etag,
                    "match_condition": MatchConditions.IfNotModified,
                },
            )
        )
        try:
            result = self._table.submit_transaction(ops)
        except self._errors() as exc:
            self._forget(head.run_id)
            status = getattr(exc, "status_code", None)
            if status == 412:
                raise ConflictError(
                    f"run {head.run_id} changed since version {expected_version}"
                ) from exc
            if status == 404:
                raise NotFoundError(f"no run {head.run_id}") from exc
            raise BackendError(f"table checkpoint {head.run_id}: {exc}") from exc
        self._remember(head, result[-1]["etag"])
        if head.status is not seen.status:
            self._index(head)

    def _current(self, run_id: str, expected_version: int) -> _Seen:
        """The head's ETag at ``expected_version``, from the cache or one read."""
        with self._lock:
            seen = self._seen.get(run_id)
        if seen is not None and seen.version > expected_version:
            raise ConflictError(
                f"run {run_id} is at version {seen.version} or later, not {expected_version}"
            )
        if seen is None or seen.version != expected_version:
            entity = self._get_head_entity(run_id)
            seen = _Seen(int(entity["v"]), _etag(entity), RunStatus(entity["status"]))
            with self._lock:
                self._seen[run_id] = seen
        if seen.version != expected_version:
            raise ConflictError(
                f"run {run_id} is at version {seen.version}, not {expected_version}"
            )
        return seen

    def _read_head(self, run_id: str) -> HeadRecord:
        entity = self._get_head_entity(run_id)
        head = keys.head_record(entity)
        self._remember(head, _etag(entity))
        return head

    def _read_run(self, run_id: str) -> tuple[HeadRecord, list[StepRecord]]:
        try:
            entities = list(
                self._table.query_entities(
                    "PartitionKey eq @pk", parameters={"pk": keys.run_pk(run_id)}
                )
            )
        except self._errors() as exc:
            raise BackendError(f"table read {run_id}: {exc}") from exc
        if not entities or entities[0]["RowKey"] != keys.HEAD_RK:
            raise NotFoundError(f"no run {run_id}")
        head = keys.head_record(entities[0])
        self._remember(head, _etag(entities[0]))
        return head, [
            keys.step_record(e) for e in entities[1:] if str(e["RowKey"]).startswith("step:")
        ]

    def _get_head_entity(self, run_id: str) -> TableEntity:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            return self._table.get_entity(keys.run_pk(run_id), keys.HEAD_RK)
        except ResourceNotFoundError as exc:
            raise NotFoundError(f"no run {run_id}") from exc
        except self._errors() as exc:
            raise BackendError(f"table get {run_id}: {exc}") from exc

    def _remember(self, head: HeadRecord, etag: str) -> None:
        with self._lock:
            self._seen[head.run_id] = _Seen(head.version, etag, head.status)
            self._seen.move_to_end(head.run_id)
            while len(self._seen) > self.cache_size:
                self._seen.popitem(last=False)

    def _forget(self, run_id: str) -> None:
        with self._lock:
            self._seen.pop(run_id, None)

    # -- listing -------------------------------------------------------------------------------

    def _index(self, head: HeadRecord) -> None:
        """Best effort: the checkpoint is committed whatever happens here."""
        from azure.data.tables import UpdateMode

        try:
            self._table.upsert_entity(keys.index_entity(head), mode=UpdateMode.REPLACE)
        except self._errors() as exc:
            log.warning(
                "index entry of run %s not updated (repaired on listing): %s", head.run_id, exc
            )

    def _query_heads(
        self, *, status: RunStatus | None, tenant: str | None, limit: int, cursor: str | None
    ) -> tuple[list[HeadRecord], str | None]:
        flt, params = self._index_filter(status, tenant, cursor)
        heads: list[tuple[str, HeadRecord]] = []
        try:
            for entry in self._table.query_entities(
                flt, parameters=params, results_per_page=limit + 1
            ):
                head = self._verified(entry, status, tenant)
                if head is not None:
                    heads.append((str(entry["RowKey"]), head))
                if len(heads) > limit:
                    break
        except self._errors() as exc:
            raise BackendError(f"table list: {exc}") from exc
        nxt = heads[limit - 1][0] if len(heads) > limit else None
        return [h for _, h in heads[:limit]], nxt

    @staticmethod
    def _index_filter(
        status: RunStatus | None, tenant: str | None, cursor: str | None
    ) -> tuple[str, dict[str, Any]]:
        parts, params = ["PartitionKey eq @pk"], {"pk": keys.INDEX_PK}
        if cursor:
            parts.append("RowKey gt @after")
            params["after"] = cursor
        if status is not None:
            parts.append("status eq @status")
            params["status"] = status.value
        if tenant is not None:
            parts.append("tenant eq @tenant")
            params["tenant"] = tenant
        return " and ".join(parts), params

    def _verified(
        self, entry: TableEntity, status: RunStatus | None, tenant: str | None
    ) -> HeadRecord | None:
        """The head an index entry names, if it still matches; repairs a stale entry."""
        try:
            head = self._read_head(str(entry["run_id"]))
        except NotFoundError:
            return None
        if head.status.value != entry["status"]:
            self._index(head)
        if (status is not None and head.status is not status) or (
            tenant is not None and head.tenant != tenant
        ):
            return None
        return head

    def reindex(self) -> int:
        """Rewrite every run's index entry from its head (a full scan; maintenance only)."""
        count = 0
        try:
            for entity in self._table.query_entities(
                "RowKey eq @rk", parameters={"rk": keys.HEAD_RK}
            ):
                self._index(keys.head_record(entity))
                count += 1
        except self._errors() as exc:
            raise BackendError(f"table reindex: {exc}") from exc
        return count

    # -- kill flags, idempotency, counters ------------------------------------------------

    def _write_kill(self, scope: str, reason: str | None) -> None:
        from azure.data.tables import UpdateMode

        try:
            if reason is None:
                self._table.delete_entity(keys.KILL_PK, keys.key(scope))
            else:
                self._table.upsert_entity(
                    {"PartitionKey": keys.KILL_PK, "RowKey": keys.key(scope), "reason": reason},
                    mode=UpdateMode.REPLACE,
                )
        except self._errors() as exc:
            raise BackendError(f"table kill flag {scope}: {exc}") from exc

    def _read_kills(self, scopes: list[str]) -> dict[str, str]:
        params = {f"s{i}": keys.key(s) for i, s in enumerate(scopes)}
        # Parameters are substituted word by word: keep them apart from the parentheses.
        rows = " or ".join(f"RowKey eq @s{i}" for i in range(len(scopes)))
        try:
            found = self._table.query_entities(
                f"PartitionKey eq @pk and ( {rows} )", parameters={"pk": keys.KILL_PK, **params}
            )
            return {keys.unkey(str(e["RowKey"])): str(e["reason"]) for e in found}
        except self._errors() as exc:
            raise BackendError(f"table kill flags: {exc}") from exc

    def _put_if_absent(self, key: str, value: str, *, now: float, expires: float) -> str:
        from azure.core import MatchConditions
        from azure.core.exceptions import (
            ResourceExistsError,
            ResourceModifiedError,
            ResourceNotFoundError,
        )
        from azure.data.tables import UpdateMode

        partition = "idem:" + keys.key(key)
        entity = {
            "PartitionKey": partition,
            "RowKey": "idem",
            "value": value,
            "expires": expires,
        }
        try:
            for _ in range(8):
                try:
                    self._table.create_entity(entity)
                    return value
                except ResourceExistsError:
                    pass
                try:
                    found = self._table.get_entity(partition, "idem")
                    if float(found["expires"]) > now:
                        return str(found["value"])
                    self._table.update_entity(
                        entity,
                        mode=UpdateMode.REPLACE,
                        etag=_etag(found),
                        match_condition=MatchConditions.IfNotModified,
                    )
                    return value
                except (ResourceNotFoundError, ResourceModifiedError):
                    continue
        except self._errors() as exc:
            raise BackendError(f"table idempotency {key}: {exc}") from exc
        raise ConflictError(f"idempotency record {key} kept changing")

    def _read_counter(self, name: str) -> tuple[str, str] | None:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            found = self._table.get_entity("counter:" + keys.key(name), "counter")
        except ResourceNotFoundError:
            return None
        except self._errors() as exc:
            raise BackendError(f"table counter {name}: {exc}") from exc
        return str(found["value"]), _etag(found)

    def _write_counter(self, name: str, text: str, *, etag: str | None) -> str:
        from azure.core import MatchConditions
        from azure.core.exceptions import (
            ResourceExistsError,
            ResourceModifiedError,
            ResourceNotFoundError,
        )
        from azure.data.tables import UpdateMode

        entity = {"PartitionKey": "counter:" + keys.key(name), "RowKey": "counter", "value": text}
        try:
            if etag is None:
                meta = self._table.create_entity(entity)
            else:
                meta = self._table.update_entity(
                    entity,
                    mode=UpdateMode.REPLACE,
                    etag=etag,
                    match_condition=MatchConditions.IfNotModified,
                )
        except (ResourceExistsError, ResourceModifiedError, ResourceNotFoundError) as exc:
            raise ConflictError(f"counter {name} changed") from exc
        except self._errors() as exc:
            raise BackendError(f"table counter {name}: {exc}") from exc
        return str(meta["etag"])

    def _errors(self) -> tuple[type[Exception], ...]:
        from azure.core.exceptions import AzureError

        return (AzureError,)


def _etag(entity: TableEntity) -> str:
    """The entity's ETag: the service always sends one, though the SDK types it optional."""
    etag = entity.metadata["etag"]
    if etag is None:
        raise BackendError("the table service returned an entity without an ETag")
    return etag
