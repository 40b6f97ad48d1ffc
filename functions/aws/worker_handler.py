"""AWS Lambda on the SQS work queue: each record is an envelope for the core worker.

Powertools' ``BatchProcessor`` reports the records that failed (``batchItemFailures``), so SQS
redelivers only those; a record that keeps failing moves to the dead-letter queue.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from core.entry import LazyWorker, MessageHandler

logger = Logger(service="paddock-worker")
metrics = Metrics(namespace="Paddock", service="paddock-worker")
copy_config_to_registered_loggers(source_logger=logger, include={"paddock.worker"})

LambdaHandler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def make_handler(worker: MessageHandler) -> LambdaHandler:
    """An SQS-triggered Lambda handler feeding ``worker``; partial batch responses."""
    # A batch where every record failed is reported like any other (all ids listed), not
    # raised: SQS then redelivers exactly those records, and the DLQ counts stay honest.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

    def record_handler(record: SQSRecord) -> str:
        logger.append_keys(message_id=record.message_id)
        outcome = worker.process_body(record.body)
        metrics.add_metric(
            name=f"Envelopes_{outcome.outcome.value}", unit=MetricUnit.Count, value=1
        )
        return outcome.outcome.value

    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        response = process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
        failed = len(response.get("batchItemFailures", []))
        metrics.add_metric(name="FailedRecords", unit=MetricUnit.Count, value=failed)
        return dict(response)

    # Powertools' decorators are typed loosely (``log_metrics`` returns ``Callable[..., Any]``):
    # applied as calls, the handler keeps its signature.
    measured: LambdaHandler = metrics.log_metrics(handler, raise_on_empty_metrics=False)
    return logger.inject_lambda_context(measured)


# Built once per cold start; the store, queues and orchestrator on the first record.
handler = make_handler(LazyWorker())
