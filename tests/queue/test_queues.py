"""One suite for every ``TaskQueue``: memory, SQS on moto, Azure Storage Queue on Azurite."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from pydantic import ValidationError

from core.errors import ConfigError
from core.queue import (
    AzureStorageQueue,
    Envelope,
    EnvelopeKind,
    MemoryQueue,
    SqsQueue,
    TaskQueue,
    azure_queue_client,
    create_sqs_queue,
    queue_from_settings,
)
from core.settings import StorageSettings

pytestmark = pytest.mark.emulators
MAX_RECEIVES = 2
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


@dataclass
class Harness:
    queue: TaskQueue
    send_raw: Callable[[str], None]
    dead_letters: Callable[[], list[str]]


def _sqs(aws_client: Callable[[str], Any]) -> Harness:
    client = aws_client("sqs")
    urls = create_sqs_queue(client, f"work-{uuid.uuid4().hex[:8]}", max_receives=MAX_RECEIVES)
    queue = SqsQueue(client, urls.queue_url, dlq_url=urls.dlq_url)

    def dead() -> list[str]:
        out = client.receive_message(QueueUrl=urls.dlq_url, MaxNumberOfMessages=10)
        return [m["Body"] for m in out.get("Messages", [])]

    return Harness(
        queue, lambda body: client.send_message(QueueUrl=urls.queue_url, MessageBody=body), dead
    )


def _azure(conn: str) -> Harness:
    name = f"work-{uuid.uuid4().hex[:8]}"
    queue = AzureStorageQueue(
        azure_queue_client(name, connection_string=conn), max_dequeue=MAX_RECEIVES
    )
    queue.create_queues()
    raw = azure_queue_client(name, connection_string=conn)

    def dead() -> list[str]:
        poison = azure_queue_client(f"{name}-poison", connection_string=conn)
        return [str(m.content) for m in poison.peek_messages(max_messages=32)]

    return Harness(queue, lambda body: raw.send_message(body), dead)


@pytest.fixture(params=["memory", "sqs", "azure"])
def harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    if request.param == "memory":
        mem = MemoryQueue(max_receives=MAX_RECEIVES)
        yield Harness(mem, mem.send_raw, lambda: list(mem.dead_letters))
    elif request.param == "sqs":
        yield _sqs(request.getfixturevalue("aws_client"))
    else:
        yield _azure(request.getfixturevalue("azurite_connection_string"))


def envelope(**fields: Any) -> Envelope:
    fields.setdefault("run_id", f"run-{uuid.uuid4().hex[:8]}")
    fields.setdefault("expected_version", 3)
    fields.setdefault("target", "azure")
    return Envelope(**fields)


def test_send_receive_ack(harness: Harness) -> None:
    q = harness.queue
    sent = envelope(kind=EnvelopeKind.RESUME, traceparent=TRACEPARENT, parent_id="p1", sender="aws")
    q.send(sent)
    got = q.receive(max_messages=5, visibility_timeout=1)
    assert len(got) == 1 and got[0].envelope == sent and got[0].receive_count == 1
    q.ack(got[0])
    time.sleep(1.2)
    assert q.receive(max_messages=5, visibility_timeout=1) == []


def test_delay_hides_until_due(harness: Harness) -> None:
    q = harness.queue
    q.send(envelope(), delay_seconds=1)
    assert q.receive(visibility_timeout=1) == []
    time.sleep(1.3)
    got = q.receive(visibility_timeout=1)
    assert len(got) == 1
    q.ack(got[0])


def test_redelivery_after_visibility_timeout(harness: Harness) -> None:
    q = harness.queue
    sent = envelope()
    q.send(sent)
    first = q.receive(visibility_timeout=1)
    assert [m.envelope.id for m in first] == [sent.id]
    assert q.receive(visibility_timeout=1) == []  # hidden while the first worker holds it
    time.sleep(1.3)
    second = q.receive(visibility_timeout=30)
    assert [m.envelope for m in second] == [sent] and second[0].receive_count == 2
    q.ack(first[0])  # stale receipt: the message is someone else's now
    q.ack(second[0])
    time.sleep(0.2)
    assert q.receive(visibility_timeout=1) == []


def test_release_makes_visible_again(harness: Harness) -> None:
    q = harness.queue
    q.send(envelope())
    [held] = q.receive(visibility_timeout=30)
    q.release(held, delay_seconds=0)
    [again] = q.receive(visibility_timeout=30)
    assert again.envelope == held.envelope and again.receive_count == 2
    q.release(again, delay_seconds=1)
    assert q.receive(visibility_timeout=30) == []


def test_poison_after_max_receives(harness: Harness) -> None:
    q = harness.queue
    sent = envelope()
    q.send(sent)
    for attempt in range(1, MAX_RECEIVES + 1):
        got = q.receive(visibility_timeout=30)
        assert [m.receive_count for m in got] == [attempt]
        q.release(got[0], delay_seconds=0)
    assert q.receive(visibility_timeout=30) == []
    dead = _eventually(harness.dead_letters)
    assert [Envelope.from_json(body) for body in dead] == [sent]


def test_undecodable_message_goes_to_poison_at_once(harness: Harness) -> None:
    harness.send_raw("not an envelope")
    harness.queue.send(envelope(run_id="good"))
    got = harness.queue.receive(max_messages=10, visibility_timeout=30)
    if not got:  # SQS may return one message per call
        got = harness.queue.receive(max_messages=10, visibility_timeout=30)
    assert [m.envelope.run_id for m in got] == ["good"]
    assert _eventually(harness.dead_letters) == ["not an envelope"]


def _eventually(read: Callable[[], list[str]]) -> list[str]:
    for _ in range(20):
        found = read()
        if found:
            return found
        time.sleep(0.1)
    return []


# -- envelope and Azure wire format ------------------------------------------------------


def test_envelope_round_trip_and_validation() -> None:
    sent = envelope(
        kind=EnvelopeKind.CHILD_DONE,
        child_id="c1",
        parent_id="p",
        traceparent=TRACEPARENT,
        attempt=2,
        sender="aws",
    )
    text = sent.to_json()
    assert Envelope.from_json(text) == sent
    assert json.loads(text)["kind"] == "child_done"
    newer = json.loads(text) | {"future_field": 1}
    assert Envelope.from_json(json.dumps(newer)) == sent
    assert sent.retry().attempt == 3 and sent.retry().id == sent.id
    with pytest.raises(ValidationError):
        envelope(traceparent="not-a-trace")
    with pytest.raises(ValidationError):
        envelope(target="gcp")
    with pytest.raises(ValidationError):
        envelope(expected_version=-1)


def test_azure_messages_are_base64_json(azurite_connection_string: str) -> None:
    name = f"wire-{uuid.uuid4().hex[:8]}"
    queue = AzureStorageQueue(azure_queue_client(name, connection_string=azurite_connection_string))
    queue.create_queues()
    sent = envelope()
    queue.send(sent)
    from azure.storage.queue import QueueClient

    plain = QueueClient.from_connection_string(azurite_connection_string, name)
    [raw] = list(plain.peek_messages())
    assert Envelope.from_json(base64.b64decode(raw.content)) == sent
    with pytest.raises(ConfigError):
        AzureStorageQueue(plain)


def test_queue_from_settings(
    aws_client: Callable[[str], Any], moto_endpoint: str, azurite_connection_string: str
) -> None:
    urls = create_sqs_queue(aws_client("sqs"), f"set-{uuid.uuid4().hex[:8]}")
    name = f"set-{uuid.uuid4().hex[:8]}"
    settings = StorageSettings(
        sqs_queue_url=urls.queue_url,
        aws_endpoint_url=moto_endpoint,
        azure_connection_string=azurite_connection_string,
        queue_name=name,
    )
    aws_q = queue_from_settings(settings, cloud="aws")
    azure_q = queue_from_settings(settings, cloud="azure")
    assert isinstance(aws_q, SqsQueue) and isinstance(azure_q, AzureStorageQueue)
    azure_q.create_queues()
    for q in (aws_q, azure_q):
        sent = envelope()
        q.send(sent)
        [got] = q.receive(visibility_timeout=5)
        assert got.envelope == sent
        q.ack(got)
    assert isinstance(queue_from_settings(settings, cloud="local"), MemoryQueue)
    with pytest.raises(ConfigError):
        queue_from_settings(StorageSettings(), cloud="aws")
