"""``TaskQueue`` on Azure Storage Queues, in the format Azure Functions' queue trigger reads.

Messages are base64 text (``TextBase64EncodePolicy`` / ``TextBase64DecodePolicy``), as the
Functions host expects by default. A message dequeued more than ``max_dequeue`` times (or one
that is not an envelope) moves to ``<queue>-poison``, the same place the Functions host uses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.errors import BackendError, ConfigError
from core.queue.base import Envelope, QueueBackend, RawMessage, ReceivedMessage

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential
    from azure.storage.queue import QueueClient

MAX_DELAY = 7 * 86400


def azure_queue_client(
    queue_name: str,
    *,
    connection_string: str | None = None,
    account_url: str | None = None,
    credential: TokenCredential | None = None,
) -> QueueClient:
    """A ``QueueClient`` with the base64 text policies (connection string, or account URL +
    credential such as ``DefaultAzureCredential``)."""
    from azure.storage.queue import QueueClient, TextBase64DecodePolicy, TextBase64EncodePolicy

    encode, decode = TextBase64EncodePolicy(), TextBase64DecodePolicy()
    if connection_string:
        return QueueClient.from_connection_string(
            connection_string,
            queue_name,
            message_encode_policy=encode,
            message_decode_policy=decode,
        )
    if account_url:
        return QueueClient(
            account_url,
            queue_name,
            credential=credential,
            message_encode_policy=encode,
            message_decode_policy=decode,
        )
    raise ConfigError("an Azure queue needs a connection string or an account URL")


def _sibling(client: QueueClient, queue_name: str) -> QueueClient:
    """A client for another queue of the same account, sharing credential and pipeline (the
    way ``QueueServiceClient.get_queue_client`` builds one)."""
    from azure.core.pipeline import Pipeline
    from azure.storage.queue import QueueClient, TextBase64DecodePolicy, TextBase64EncodePolicy
    from azure.storage.queue._shared.base_client import TransportWrapper

    transport = TransportWrapper(client._pipeline._transport)  # type: ignore[no-untyped-call]
    pipeline = Pipeline(transport=transport, policies=client._pipeline._impl_policies)
    return QueueClient(
        f"{client.scheme}://{client.primary_hostname}",
        queue_name,
        credential=client.credential,
        _pipeline=pipeline,
        api_version=client.api_version,
        message_encode_policy=TextBase64EncodePolicy(),
        message_decode_policy=TextBase64DecodePolicy(),
    )


class AzureStorageQueue(QueueBackend):
    """Envelopes on one Azure Storage queue.

    Args:
        queue_client: a ``QueueClient`` built with the base64 text policies
            (see ``azure_queue_client``).
        poison_client: the ``<queue>-poison`` client; derived from ``queue_client`` if omitted.
        max_dequeue: deliveries before a message is poison (the Functions default is 5).
    """

    def __init__(
        self,
        queue_client: QueueClient,
        *,
        poison_client: QueueClient | None = None,
        max_dequeue: int = 5,
    ) -> None:
        from azure.storage.queue import TextBase64EncodePolicy

        # Functions reads base64; a client without the policy would write plain text.
        if not isinstance(
            getattr(queue_client, "_message_encode_policy", None), TextBase64EncodePolicy
        ):
            raise ConfigError(
                "the QueueClient must use TextBase64EncodePolicy (build it with azure_queue_client)"
            )
        super().__init__(max_receives=max_dequeue)
        self._client = queue_client
        self._poison_client = poison_client

    @property
    def poison_client(self) -> QueueClient:
        if self._poison_client is None:
            self._poison_client = _sibling(self._client, f"{self._client.queue_name}-poison")
        return self._poison_client

    def create_queues(self) -> None:
        """Create the queue and its poison queue if missing (tests and local development)."""
        from azure.core.exceptions import ResourceExistsError

        for client in (self._client, self.poison_client):
            try:
                client.create_queue()
            except ResourceExistsError:
                pass
            except _errors() as exc:
                raise BackendError(f"queue create: {exc}") from exc

    def send(self, envelope: Envelope, delay_seconds: int = 0) -> str:
        if not 0 <= delay_seconds <= MAX_DELAY:
            raise BackendError(
                f"Azure queues delay 0..{MAX_DELAY} s, not {delay_seconds}", retryable=False
            )
        try:
            sent = self._client.send_message(
                envelope.to_json(), visibility_timeout=delay_seconds or None
            )
        except _errors() as exc:
            raise BackendError(f"queue send: {exc}") from exc
        return str(sent.id)

    def _receive(self, max_messages: int, visibility_timeout: int) -> list[RawMessage]:
        batch = min(max_messages, 32)
        try:
            messages = self._client.receive_messages(
                messages_per_page=batch,
                max_messages=batch,
                visibility_timeout=max(1, visibility_timeout),
            )
            return [
                RawMessage(
                    body=str(m.content),
                    message_id=str(m.id),
                    receive_count=int(m.dequeue_count or 1),
                    receipt=m.pop_receipt,
                )
                for m in messages
            ]
        except _errors() as exc:
            raise BackendError(f"queue receive: {exc}") from exc

    def _poison(self, raw: RawMessage) -> None:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            try:
                self.poison_client.send_message(raw.body)
            except ResourceNotFoundError:
                self.poison_client.create_queue()
                self.poison_client.send_message(raw.body)
            self._client.delete_message(raw.message_id, raw.receipt)
        except _errors() as exc:
            raise BackendError(f"queue poison: {exc}") from exc

    def ack(self, message: ReceivedMessage) -> None:
        try:
            self._client.delete_message(message.message_id, message.receipt)
        except _errors() as exc:
            if _gone(exc):
                return
            raise BackendError(f"queue ack: {exc}") from exc

    def release(self, message: ReceivedMessage, delay_seconds: int = 0) -> None:
        try:
            self._client.update_message(
                message.message_id, message.receipt, visibility_timeout=delay_seconds
            )
        except _errors() as exc:
            if _gone(exc):
                return  # somebody else holds it now
            raise BackendError(f"queue release: {exc}") from exc


def _gone(exc: Exception) -> bool:
    """The receipt is stale: the message was redelivered to someone else, or deleted."""
    return getattr(exc, "error_code", None) in ("PopReceiptMismatch", "MessageNotFound")


def _errors() -> tuple[type[Exception], ...]:
    from azure.core.exceptions import AzureError

    return (AzureError,)
