"""Build the work queue of a cloud from ``StorageSettings``."""

from __future__ import annotations

from core.errors import ConfigError
from core.queue.base import TaskQueue
from core.settings import StorageSettings


def queue_from_settings(settings: StorageSettings, *, cloud: str) -> TaskQueue:
    """The work queue of ``cloud``: this worker's own, or that of the cloud it hands a run to.

    ``aws``: SQS at ``PADDOCK_SQS_QUEUE_URL`` (moto when ``PADDOCK_AWS_ENDPOINT_URL`` is set);
    ``azure``: Storage queue ``PADDOCK_QUEUE_NAME`` via ``PADDOCK_AZURE_CONNECTION_STRING``
    (Azurite) or ``PADDOCK_QUEUE_ENDPOINT`` + ``DefaultAzureCredential``; ``local``: a new
    in-process ``MemoryQueue``. A worker handing a run to the other cloud asks for that cloud's
    queue.
    """
    which = cloud.strip().lower()
    if which == "aws":
        from core.queue.sqs import SqsQueue
        from core.state.factory import aws_client

        if not settings.sqs_queue_url:
            raise ConfigError("the AWS queue needs PADDOCK_SQS_QUEUE_URL")
        return SqsQueue(aws_client("sqs", settings), settings.sqs_queue_url)
    if which == "azure":
        from core.queue.azure import AzureStorageQueue, azure_queue_client

        if settings.azure_connection_string:
            client = azure_queue_client(
                settings.queue_name, connection_string=settings.azure_connection_string
            )
        elif settings.queue_endpoint:
            from azure.identity import DefaultAzureCredential

            client = azure_queue_client(
                settings.queue_name,
                account_url=settings.queue_endpoint,
                credential=DefaultAzureCredential(),
            )
        else:
            raise ConfigError(
                "the Azure queue needs PADDOCK_QUEUE_ENDPOINT or PADDOCK_AZURE_CONNECTION_STRING"
            )
        return AzureStorageQueue(client)
    if which == "local":
        from core.queue.memory import MemoryQueue

        return MemoryQueue()
    raise ConfigError(f"unknown cloud {which!r} for a queue: aws, azure or local")
