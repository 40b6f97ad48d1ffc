"""``TaskQueue`` on Amazon SQS (boto3 client injected); poison handling by redrive policy."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.errors import BackendError
from core.queue.base import Envelope, QueueBackend, RawMessage, ReceivedMessage

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

MAX_DELAY = 900
"""SQS delays a message by at most 15 minutes."""


@dataclass(frozen=True)
class SqsQueues:
    queue_url: str
    dlq_url: str


def create_sqs_queue(
    client: SQSClient, name: str, *, max_receives: int = 5, visibility_timeout: int = 30
) -> SqsQueues:
    """Create ``name`` and ``name-dlq`` with a redrive policy (tests and local development).

    A message received ``max_receives`` times without an ack moves to the DLQ on its next
    receive. Infra declares the same pair in Pulumi.
    """
    errors = _errors()
    try:
        dlq_url = client.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
        dlq_arn = client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receives)})
        url = client.create_queue(
            QueueName=name,
            Attributes={"RedrivePolicy": redrive, "VisibilityTimeout": str(visibility_timeout)},
        )["QueueUrl"]
    except errors as exc:
        raise BackendError(f"sqs create {name}: {exc}") from exc
    return SqsQueues(queue_url=url, dlq_url=dlq_url)


class SqsQueue(QueueBackend):
    """Envelopes as JSON message bodies on one SQS standard queue.

    Args:
        client: a boto3 SQS client.
        queue_url: the work queue (with a redrive policy to its DLQ).
        dlq_url: when given, undecodable messages are moved there at once; otherwise the
            redrive policy moves them after ``maxReceiveCount`` receives.
        wait_seconds: long-poll time of ``receive`` (0: return at once).
    """

    def __init__(
        self,
        client: SQSClient,
        queue_url: str,
        *,
        dlq_url: str | None = None,
        wait_seconds: int = 0,
    ) -> None:
        super().__init__(max_receives=1 << 30)  # the redrive policy counts receives
        self._client = client
        self.queue_url = queue_url
        self.dlq_url = dlq_url
        self.wait_seconds = wait_seconds

    def send(self, envelope: Envelope, delay_seconds: int = 0) -> str:
        if not 0 <= delay_seconds <= MAX_DELAY:
            raise BackendError(f"SQS delays 0..{MAX_DELAY} s, not {delay_seconds}", retryable=False)
        try:
            out = self._client.send_message(
                QueueUrl=self.queue_url, MessageBody=envelope.to_json(), DelaySeconds=delay_seconds
            )
        except _errors() as exc:
            raise BackendError(f"sqs send: {exc}") from exc
        return str(out["MessageId"])

    def _receive(self, max_messages: int, visibility_timeout: int) -> list[RawMessage]:
        try:
            out = self._client.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=min(max_messages, 10),
                VisibilityTimeout=visibility_timeout,
                WaitTimeSeconds=self.wait_seconds,
                MessageSystemAttributeNames=["ApproximateReceiveCount"],
            )
        except _errors() as exc:
            raise BackendError(f"sqs receive: {exc}") from exc
        return [
            RawMessage(
                body=m["Body"],
                message_id=m["MessageId"],
                receive_count=int(m.get("Attributes", {}).get("ApproximateReceiveCount", 1)),
                receipt=m["ReceiptHandle"],
            )
            for m in out.get("Messages", [])
        ]

    def _poison(self, raw: RawMessage) -> None:
        if self.dlq_url is None:
            return  # stays hidden, comes back, and the redrive policy moves it
        try:
            self._client.send_message(QueueUrl=self.dlq_url, MessageBody=raw.body)
            self._client.delete_message(QueueUrl=self.queue_url, ReceiptHandle=raw.receipt)
        except _errors() as exc:
            raise BackendError(f"sqs dead-letter: {exc}") from exc

    def ack(self, message: ReceivedMessage) -> None:
        try:
            self._client.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message.receipt)
        except _errors() as exc:
            if "ReceiptHandleIsInvalid" in str(exc):
                return
            raise BackendError(f"sqs ack: {exc}") from exc

    def release(self, message: ReceivedMessage, delay_seconds: int = 0) -> None:
        try:
            self._client.change_message_visibility(
                QueueUrl=self.queue_url,
                ReceiptHandle=message.receipt,
                VisibilityTimeout=delay_seconds,
            )
        except _errors() as exc:
            raise BackendError(f"sqs release: {exc}") from exc


def _errors() -> tuple[type[Exception], ...]:
    from botocore.exceptions import BotoCoreError, ClientError

    return (ClientError, BotoCoreError)
