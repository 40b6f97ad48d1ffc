"""Entity layout of ``TableStore``: keys, body chunking, the listing index."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, unquote

from core.domain import RunStatus
from core.state._records import Body, HeadRecord, StepRecord, epoch_micros

HEAD_RK = "head"
INDEX_PK = "index"
KILL_PK = "kill"
CHUNK_ASCII = 30_000
"""Characters per string property when the text is ASCII (64 KiB as UTF-16)."""
CHUNK_OTHER = 16_000
"""Characters per property otherwise (a character may take 4 bytes in UTF-16)."""
_SAFE = ":@!$&'()*+,;=-._~"


def key(value: str) -> str:
    """A PartitionKey/RowKey-safe form (``/ \\ # ?`` and control characters are not allowed)."""
    return quote(value, safe=_SAFE)


def unkey(value: str) -> str:
    return unquote(value)


def run_pk(run_id: str) -> str:
    return "run:" + key(run_id)


def step_rk(index: int) -> str:
    return f"step:{index:08d}"


def index_rk(created: str, run_id: str) -> str:
    """Newest first: the inverted creation time sorts ascending as time descends."""
    return f"{10**17 - epoch_micros(created):017d}:{key(run_id)}"


def body_props(body: Body) -> dict[str, Any]:
    if body.claim is not None:
        return {"claim": body.claim}
    text = body.text or ""
    size = CHUNK_ASCII if text.isascii() else CHUNK_OTHER
    chunks = [text[i : i + size] for i in range(0, len(text), size)] or [""]
    props: dict[str, Any] = {"nb": len(chunks)}
    props.update({f"b{i}": chunk for i, chunk in enumerate(chunks)})
    return props


def body_of(entity: dict[str, Any]) -> Body:
    if entity.get("claim"):
        return Body(claim=str(entity["claim"]))
    return Body(text="".join(str(entity[f"b{i}"]) for i in range(int(entity["nb"]))))


def head_entity(head: HeadRecord) -> dict[str, Any]:
    return {
        "PartitionKey": run_pk(head.run_id),
        "RowKey": HEAD_RK,
        "run_id": head.run_id,
        "v": head.version,
        "status": head.status.value,
        "tenant": head.tenant,
        "created": head.created,
        **body_props(head.body),
    }


def step_entity(run_id: str, step: StepRecord) -> dict[str, Any]:
    return {
        "PartitionKey": run_pk(run_id),
        "RowKey": step_rk(step.index),
        "index": step.index,
        **body_props(step.body),
    }


def index_entity(head: HeadRecord) -> dict[str, Any]:
    return {
        "PartitionKey": INDEX_PK,
        "RowKey": index_rk(head.created, head.run_id),
        "run_id": head.run_id,
        "status": head.status.value,
        "tenant": head.tenant,
    }


def head_record(entity: dict[str, Any]) -> HeadRecord:
    return HeadRecord(
        run_id=str(entity["run_id"]),
        version=int(entity["v"]),
        status=RunStatus(entity["status"]),
        tenant=str(entity["tenant"]),
        created=str(entity["created"]),
        body=body_of(entity),
    )


def step_record(entity: dict[str, Any]) -> StepRecord:
    return StepRecord(index=int(entity["index"]), body=body_of(entity))
