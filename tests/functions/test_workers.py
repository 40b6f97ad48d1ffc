"""The queue-triggered handlers: SQS batches with partial failures, Azure queue messages."""

from __future__ import annotations

import pytest
from azure.functions.queue import QueueMessage

from core.domain import RunStatus
from core.errors import ConfigError
from core.queue.base import Envelope
from functions.aws.worker_handler import make_handler
from functions.azure.function_app import make_app
from paddock.dev.events import LambdaContext
from tests.api.world import World
from tests.functions.conftest import sample, sqs_records


def _envelope(world: World, run_id: str) -> Envelope:
    [message] = world.queue.receive(10)
    world.queue.ack(message)
    assert message.envelope.run_id == run_id
    return message.envelope


def test_sqs_batch_reports_only_the_bad_record_as_failed(world: World) -> None:
    run_id = world.start()
    envelope = _envelope(world, run_id)
    real = sample("sqsEvent.json")["Records"]
    event = sqs_records([real[0]["body"], envelope.to_json()])  # "Test message." + ours
    handler = make_handler(world.worker)
    response = handler(event, LambdaContext(function_name="paddock-worker"))
    assert response == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    run = world.store.get_run(run_id)
    assert run.status is RunStatus.AWAITING_APPROVAL  # advanced to the write's approval


def test_sqs_duplicate_delivery_is_not_a_failure_and_not_a_second_step(world: World) -> None:
    run_id = world.start()
    body = _envelope(world, run_id).to_json()
    handler = make_handler(world.worker)
    event = sqs_records([body, body], template="getting_started_sqs_event.json")
    assert handler(event, LambdaContext()) == {"batchItemFailures": []}
    assert len(world.store.get_run(run_id).steps) == 2


def test_sqs_batch_where_every_record_fails_lists_them_all(world: World) -> None:
    handler = make_handler(world.worker)
    event = sqs_records(["not json", '{"run_id": 1}'])
    failed = handler(event, LambdaContext())["batchItemFailures"]
    assert [f["itemIdentifier"] for f in failed] == [r["messageId"] for r in event["Records"]]


def _queue_trigger(world: World):  # type: ignore[no-untyped-def]
    app = make_app(world.api, world.worker)
    [fn] = [f for f in app.get_functions() if f.get_function_name() == "worker"]
    binding = fn.get_trigger()
    assert (binding.queue_name, binding.connection) == (
        "%PADDOCK_QUEUE_NAME%",
        "AzureWebJobsStorage",
    )
    return fn.get_user_function()


def test_azure_queue_trigger_advances_the_run(world: World) -> None:
    run_id = world.start()
    envelope = _envelope(world, run_id)
    trigger = _queue_trigger(world)
    trigger(
        QueueMessage(
            id="m-1",
            body=envelope.to_json(),
            dequeue_count=1,  # type: ignore[no-untyped-call]
            pop_receipt="r-1",
        )
    )
    assert world.store.get_run(run_id).status is RunStatus.AWAITING_APPROVAL
    trigger(
        QueueMessage(
            id="m-1",
            body=envelope.to_json(),
            dequeue_count=2,  # type: ignore[no-untyped-call]
            pop_receipt="r-2",
        )
    )  # redelivered: dropped by version
    assert len(world.store.get_run(run_id).steps) == 2


def test_azure_queue_trigger_raises_on_a_message_that_is_no_envelope(world: World) -> None:
    trigger = _queue_trigger(world)
    with pytest.raises(ConfigError, match="not a Paddock envelope"):
        trigger(QueueMessage(id="m-2", body=b"Test message.", dequeue_count=1))  # type: ignore[no-untyped-call]
