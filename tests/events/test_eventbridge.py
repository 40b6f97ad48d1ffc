"""EventBridge on the moto server: events arrive on the bus (read back through a rule that
targets an SQS queue); a bus that does not exist fails the delivery, which is retried."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from core.domain import Run, RunStatus
from core.events import DeliveryError, EventBridgeSink, Publisher, run_events
from core.state.memory import MemoryStore
from tests.conftest import unique


def _bus_to_queue(aws_client: Callable[[str], Any]) -> tuple[str, Any, str]:
    events, sqs = aws_client("events"), aws_client("sqs")
    bus = unique("paddock-bus")
    events.create_event_bus(Name=bus)
    queue_url = sqs.create_queue(QueueName=unique("bus-tap"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    events.put_rule(
        Name="all-paddock", EventBusName=bus, EventPattern=json.dumps({"source": ["com.paddock"]})
    )
    events.put_targets(
        Rule="all-paddock",
        EventBusName=bus,
        Targets=[{"Id": "tap", "Arn": arn["Attributes"]["QueueArn"]}],
    )
    return bus, sqs, queue_url


def test_events_arrive_on_the_bus_once(aws_client: Callable[[str], Any]) -> None:
    bus, sqs, queue_url = _bus_to_queue(aws_client)
    store = MemoryStore()
    publisher = Publisher(store, [EventBridgeSink(aws_client("events"), bus)])
    run = Run(id="run_eb1", goal="g", tenant="acme", status=RunStatus.FAILED, step_count=2)
    assert publisher.publish(run).delivered == 2
    assert publisher.publish(run).delivered == 0  # the ledger remembers
    got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    bodies = [json.loads(m["Body"]) for m in got.get("Messages", [])]
    assert sorted(b["detail-type"] for b in bodies) == [
        "com.paddock.run.failed",
        "com.paddock.run.started",
    ]
    failed = next(b for b in bodies if b["detail-type"].endswith("failed"))
    assert failed["source"] == "com.paddock"
    assert failed["detail"]["id"] == "run_eb1:run.failed"
    assert failed["detail"]["specversion"] == "1.0"


def test_a_missing_bus_is_a_delivery_error_and_nothing_is_recorded(
    aws_client: Callable[[str], Any],
) -> None:
    sink = EventBridgeSink(aws_client("events"), "no-such-bus-" + unique("x"))
    run = Run(id="run_eb2", goal="g", status=RunStatus.SUCCEEDED, step_count=1)
    with pytest.raises(DeliveryError):
        sink.deliver(run_events(run))
    store = MemoryStore()
    result = Publisher(store, [sink]).publish(run)
    assert result.retry and result.delivered == 0
    assert store.get_counter("events:run_eb2").etag is None
