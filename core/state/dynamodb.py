"""``RunStore`` on one DynamoDB table (single-table design).

Key schema (see docs/state.md):

================  ====================  =========================================
PK                SK                    item
================  ====================  =========================================
``RUN#<id>``      ``HEAD``              run head: ``v``, status, tenant, body|claim
``RUN#<id>``      ``STEP#00000001``     one step: body|claim
``KILL``          ``<scope>``           kill flag: reason
``IDEM#<key>``    ``IDEM``              idempotency record: value, ``expires_at``
``COUNTER#<n>``   ``COUNTER``           rate-limit counter: value, etag
================  ====================  =========================================

GSIs ``by_status`` (``GSI1PK = STATUS#<s>``) and ``by_tenant`` (``GSI2PK = TENANT#<t>``) share
the sort key ``LSK = <created>#<id>``: heads only, newest first with ``ScanIndexForward=False``.
``expires_at`` is the TTL attribute.
"""

from __future__ import annotations

import base64
import heapq
import time
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from core.domain import RunStatus
from core.errors import BackendError, ConflictError, NotFoundError
from core.state._records import Body, HeadRecord, StepRecord
from core.state.payloads import PayloadStore, S3Payloads
from core.state.persistent import PersistentStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import (
        AttributeValueTypeDef,
        GlobalSecondaryIndexTypeDef,
        KeysAndAttributesOutputTypeDef,
        KeysAndAttributesTypeDef,
        PutItemInputTypeDef,
        PutTypeDef,
        TransactWriteItemTypeDef,
    )
    from mypy_boto3_s3 import S3Client

    Item = dict[str, AttributeValueTypeDef]

STATUS_INDEX = "by_status"
TENANT_INDEX = "by_tenant"
DAY = 86400


def create_dynamodb_table(client: DynamoDBClient, table_name: str) -> None:
    """Create the single table with its two GSIs (on-demand billing) and TTL, for tests/dev.

    Infra declares the same schema in Pulumi; this helper is for moto and local runs.
    """
    keys = ["PK", "SK", "GSI1PK", "GSI2PK", "LSK"]
    client.create_table(
        TableName=table_name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in keys],
        KeySchema=[
            {"AttributeName": "PK", "KeyType": "HASH"},
            {"AttributeName": "SK", "KeyType": "RANGE"},
        ],
        GlobalSecondaryIndexes=[_gsi(STATUS_INDEX, "GSI1PK"), _gsi(TENANT_INDEX, "GSI2PK")],
    )
    client.get_waiter("table_exists").wait(
        TableName=table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 30}
    )
    client.update_time_to_live(
        TableName=table_name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"},
    )


def _gsi(name: str, pk: str) -> GlobalSecondaryIndexTypeDef:
    return {
        "IndexName": name,
        "Projection": {"ProjectionType": "ALL"},
        "KeySchema": [
            {"AttributeName": pk, "KeyType": "HASH"},
            {"AttributeName": "LSK", "KeyType": "RANGE"},
        ],
    }


class DynamoDBStore(PersistentStore):
    """Runs, steps, kill flags, idempotency records and counters in one DynamoDB table.

    Args:
        client: a boto3 DynamoDB client.
        table_name: the single table (see ``create_dynamodb_table``).
        s3_client: boto3 S3 client for claim-checked payloads over ~350 KB.
        bucket: the payload bucket.
        ttl_days: how long a finished run is kept (``expires_at``).
    """

    inline_limit = 350_000
    batch_limit = 3_500_000
    max_run_days = 365
    """Steps written before a run finishes expire ``ttl_days`` after this bound."""

    def __init__(
        self,
        client: DynamoDBClient,
        table_name: str,
        *,
        s3_client: S3Client | None = None,
        bucket: str | None = None,
        ttl_days: int = 30,
        payloads: PayloadStore | None = None,
    ) -> None:
        if payloads is None and s3_client is not None and bucket:
            payloads = S3Payloads(s3_client, bucket)
        super().__init__(payloads=payloads)
        self._client = client
        self.table_name = table_name
        self.ttl_days = ttl_days

    def create_table(self) -> None:
        """Create this store's table (tests and local development)."""
        create_dynamodb_table(self._client, self.table_name)

    # -- runs --------------------------------------------------------------------------------

    def _insert(self, head: HeadRecord, steps: list[StepRecord]) -> None:
        put: PutTypeDef = {
            "TableName": self.table_name,
            "Item": self._head_item(head),
            "ConditionExpression": "attribute_not_exists(PK)",
        }
        try:
            if not steps:
                self._client.put_item(**put)
            else:
                self._client.transact_write_items(
                    TransactItems=[*self._step_puts(head, steps), {"Put": put}]
                )
        except self._errors() as exc:
            code = _code(exc)
            if code in ("ConditionalCheckFailedException", "TransactionCanceledException"):
                raise ConflictError(f"run {head.run_id} already exists") from exc
            raise BackendError(f"dynamodb create {head.run_id}: {exc}") from exc

    def _commit(self, head: HeadRecord, steps: list[StepRecord], *, expected_version: int) -> None:
        put: PutTypeDef = {
            "TableName": self.table_name,
            "Item": self._head_item(head),
            "ConditionExpression": "v = :v",
            "ExpressionAttributeValues": {":v": {"N": str(expected_version)}},
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        try:
            if not steps:
                self._client.put_item(**put)
            else:
                self._client.transact_write_items(
                    TransactItems=[*self._step_puts(head, steps), {"Put": put}]
                )
        except self._errors() as exc:
            raise self._commit_error(exc, head.run_id, expected_version) from exc

    def _commit_error(self, exc: Exception, run_id: str, expected: int) -> Exception:
        response = getattr(exc, "response", {})
        code = _code(exc)
        if code == "ConditionalCheckFailedException":
            old = response.get("Item")
        elif code == "TransactionCanceledException":
            reasons = response.get("CancellationReasons") or [{}]
            if reasons[-1].get("Code") != "ConditionalCheckFailed":
                return ConflictError(f"run {run_id}: concurrent transaction ({reasons})")
            old = reasons[-1].get("Item")
        else:
            return BackendError(f"dynamodb checkpoint {run_id}: {exc}")
        if not old:
            # The old item should come back with the failed condition; when it does not (moto
            # under concurrent writes omits it), read the head to tell a missing run from a
            # stale version rather than guess.
            try:
                current = self._read_head(run_id)
            except NotFoundError as missing:
                return missing
            except BackendError as failed:
                return failed
            return ConflictError(f"run {run_id} is at version {current.version}, not {expected}")
        return ConflictError(f"run {run_id} is at version {old['v']['N']}, not {expected}")

    def _read_head(self, run_id: str) -> HeadRecord:
        try:
            found = self._client.get_item(
                TableName=self.table_name,
                ConsistentRead=True,
                Key={"PK": {"S": _run_pk(run_id)}, "SK": {"S": "HEAD"}},
            )
        except self._errors() as exc:
            raise BackendError(f"dynamodb get {run_id}: {exc}") from exc
        if "Item" not in found:
            raise NotFoundError(f"no run {run_id}")
        return _head_record(found["Item"])

    def _read_run(self, run_id: str) -> tuple[HeadRecord, list[StepRecord]]:
        items = self._query_all(
            KeyConditionExpression="PK = :pk",
            ConsistentRead=True,
            ExpressionAttributeValues={":pk": {"S": _run_pk(run_id)}},
        )
        if not items or items[0]["SK"]["S"] != "HEAD":
            raise NotFoundError(f"no run {run_id}")
        steps = [
            StepRecord(index=int(i["SK"]["S"][5:]), body=_body(i))
            for i in items[1:]
            if i["SK"]["S"].startswith("STEP#")
        ]
        return _head_record(items[0]), steps

    def _query_heads(
        self, *, status: RunStatus | None, tenant: str | None, limit: int, cursor: str | None
    ) -> tuple[list[HeadRecord], str | None]:
        after = _decode_cursor(cursor)
        if tenant is not None:
            items = self._index_page(
                TENANT_INDEX, "GSI2PK", f"TENANT#{tenant}", after, limit + 1, status=status
            )
        elif status is not None:
            items = self._index_page(
                STATUS_INDEX, "GSI1PK", f"STATUS#{status.value}", after, limit + 1
            )
        else:  # no filter: merge the per-status partitions (one query each)
            pages = [
                self._index_page(STATUS_INDEX, "GSI1PK", f"STATUS#{s.value}", after, limit + 1)
                for s in RunStatus
            ]
            items = list(heapq.merge(*pages, key=lambda i: i["LSK"]["S"], reverse=True))
        page = items[:limit]
        nxt = _encode_cursor(page[-1]["LSK"]["S"]) if len(items) > limit else None
        return [_head_record(i) for i in page], nxt

    def _index_page(
        self,
        index: str,
        pk_name: str,
        pk: str,
        after: str | None,
        want: int,
        *,
        status: RunStatus | None = None,
    ) -> list[Item]:
        """Up to ``want`` heads of one index partition below ``after``, newest first."""
        cond = f"{pk_name} = :pk" + (" AND LSK < :after" if after else "")
        values: dict[str, AttributeValueTypeDef] = {":pk": {"S": pk}}
        if after:
            values[":after"] = {"S": after}
        kwargs: dict[str, Any] = {
            "IndexName": index,
            "KeyConditionExpression": cond,
            "ScanIndexForward": False,
            "Limit": max(want, 25),
        }
        if status is not None:
            kwargs["FilterExpression"] = "#st = :st"
            kwargs["ExpressionAttributeNames"] = {"#st": "status"}
            values[":st"] = {"S": status.value}
        return self._query_all(ExpressionAttributeValues=values, stop_after=want, **kwargs)

    def _query_all(self, *, stop_after: int | None = None, **kwargs: Any) -> list[Item]:
        items: list[Item] = []
        try:
            while True:
                page = self._client.query(TableName=self.table_name, **kwargs)
                items.extend(page.get("Items", []))
                start = page.get("LastEvaluatedKey")
                if not start or (stop_after is not None and len(items) >= stop_after):
                    return items if stop_after is None else items[:stop_after]
                kwargs["ExclusiveStartKey"] = start
        except self._errors() as exc:
            raise BackendError(f"dynamodb query: {exc}") from exc

    # -- kill flags, idempotency, counters ------------------------------------------------

    def _write_kill(self, scope: str, reason: str | None) -> None:
        key = {"PK": {"S": "KILL"}, "SK": {"S": scope}}
        try:
            if reason is None:
                self._client.delete_item(TableName=self.table_name, Key=key)
            else:
                self._client.put_item(
                    TableName=self.table_name, Item={**key, "reason": {"S": reason}}
                )
        except self._errors() as exc:
            raise BackendError(f"dynamodb kill flag {scope}: {exc}") from exc

    def _read_kills(self, scopes: list[str]) -> dict[str, str]:
        keys: list[Item] = [{"PK": {"S": "KILL"}, "SK": {"S": s}} for s in dict.fromkeys(scopes)]
        found: dict[str, str] = {}
        try:
            request: Mapping[str, KeysAndAttributesTypeDef | KeysAndAttributesOutputTypeDef] = {
                self.table_name: {"Keys": keys, "ConsistentRead": True}
            }
            while request:
                out = self._client.batch_get_item(RequestItems=request)
                for item in out["Responses"].get(self.table_name, []):
                    found[item["SK"]["S"]] = item["reason"]["S"]
                request = out.get("UnprocessedKeys") or {}
        except self._errors() as exc:
            raise BackendError(f"dynamodb kill flags: {exc}") from exc
        return found

    def _put_if_absent(self, key: str, value: str, *, now: float, expires: float) -> str:
        item: Item = {
            "PK": {"S": f"IDEM#{key}"},
            "SK": {"S": "IDEM"},
            "value": {"S": value},
            "expires_at": {"N": str(int(expires))},
            "expires": {"N": repr(expires)},
        }
        try:
            self._client.put_item(
                TableName=self.table_name,
                Item=item,
                ConditionExpression="attribute_not_exists(PK) OR expires < :now",
                ExpressionAttributeValues={":now": {"N": repr(now)}},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self._errors() as exc:
            old = getattr(exc, "response", {}).get("Item")
            if _code(exc) == "ConditionalCheckFailedException" and old:
                return str(old["value"]["S"])
            raise BackendError(f"dynamodb idempotency {key}: {exc}") from exc
        return value

    def _read_counter(self, name: str) -> tuple[str, str] | None:
        try:
            found = self._client.get_item(
                TableName=self.table_name,
                ConsistentRead=True,
                Key={"PK": {"S": f"COUNTER#{name}"}, "SK": {"S": "COUNTER"}},
            )
        except self._errors() as exc:
            raise BackendError(f"dynamodb counter {name}: {exc}") from exc
        item = found.get("Item")
        return None if item is None else (item["value"]["S"], item["etag"]["S"])

    def _write_counter(self, name: str, text: str, *, etag: str | None) -> str:
        new = uuid.uuid4().hex
        put: PutItemInputTypeDef = {
            "TableName": self.table_name,
            "Item": {
                "PK": {"S": f"COUNTER#{name}"},
                "SK": {"S": "COUNTER"},
                "value": {"S": text},
                "etag": {"S": new},
            },
        }
        if etag is None:
            put["ConditionExpression"] = "attribute_not_exists(PK)"
        else:
            put["ConditionExpression"] = "etag = :e"
            put["ExpressionAttributeValues"] = {":e": {"S": etag}}
        try:
            self._client.put_item(**put)
        except self._errors() as exc:
            if _code(exc) == "ConditionalCheckFailedException":
                raise ConflictError(f"counter {name} changed") from exc
            raise BackendError(f"dynamodb counter {name}: {exc}") from exc
        return new

    # -- items ---------------------------------------------------------------------------------

    def _head_item(self, head: HeadRecord) -> Item:
        lsk = f"{head.created}#{head.run_id}"
        item: Item = {
            "PK": {"S": _run_pk(head.run_id)},
            "SK": {"S": "HEAD"},
            "v": {"N": str(head.version)},
            "status": {"S": head.status.value},
            "tenant": {"S": head.tenant},
            "created": {"S": head.created},
            "GSI1PK": {"S": f"STATUS#{head.status.value}"},
            "GSI2PK": {"S": f"TENANT#{head.tenant}"},
            "LSK": {"S": lsk},
            **_body_attrs(head.body),
        }
        if head.status.finished:
            item["expires_at"] = {"N": str(int(time.time()) + self.ttl_days * DAY)}
        return item

    def _step_puts(
        self, head: HeadRecord, steps: list[StepRecord]
    ) -> list[TransactWriteItemTypeDef]:
        days = self.ttl_days + (0 if head.status.finished else self.max_run_days)
        expires: AttributeValueTypeDef = {"N": str(int(time.time()) + days * DAY)}
        return [
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": {
                        "PK": {"S": _run_pk(head.run_id)},
                        "SK": {"S": f"STEP#{s.index:08d}"},
                        "expires_at": expires,
                        **_body_attrs(s.body),
                    },
                }
            }
            for s in steps
        ]

    def _errors(self) -> tuple[type[Exception], ...]:
        from botocore.exceptions import BotoCoreError, ClientError

        return (ClientError, BotoCoreError)


def _run_pk(run_id: str) -> str:
    return f"RUN#{run_id}"


def _code(exc: Exception) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


def _body_attrs(body: Body) -> Item:
    if body.claim is not None:
        return {"claim": {"S": body.claim}}
    return {"body": {"S": body.text or ""}}


def _body(item: Item) -> Body:
    if "claim" in item:
        return Body(claim=item["claim"]["S"])
    return Body(text=item["body"]["S"])


def _head_record(item: Item) -> HeadRecord:
    return HeadRecord(
        run_id=item["PK"]["S"][4:],
        version=int(item["v"]["N"]),
        status=RunStatus(item["status"]["S"]),
        tenant=item["tenant"]["S"],
        created=item["created"]["S"],
        body=_body(item),
    )


def _encode_cursor(lsk: str) -> str:
    return base64.urlsafe_b64encode(lsk.encode()).decode()


def _decode_cursor(cursor: str | None) -> str | None:
    if not cursor:
        return None
    try:
        return base64.urlsafe_b64decode(cursor.encode()).decode()
    except ValueError as exc:
        raise BackendError(f"bad cursor {cursor!r}", retryable=False) from exc
