"""Build the publisher a process's settings describe."""

from __future__ import annotations

from core.errors import ConfigError
from core.events.outbox import Publisher
from core.events.sinks import EventBridgeSink, EventGridSink, Sink, WebhookSink, entra_token
from core.settings import Settings
from core.state.base import RunStore


def publisher_from_settings(settings: Settings, store: RunStore) -> Publisher:
    """Sinks for every configured transport (none: a publisher that publishes nothing).

    Raises ``ConfigError`` for webhooks without a secret.
    """
    events = settings.events
    sinks: list[Sink] = []
    if events.eventbridge_bus:
        sinks.append(EventBridgeSink(_events_client(settings), events.eventbridge_bus))
    if events.eventgrid_endpoint:
        if events.eventgrid_key:
            sinks.append(EventGridSink(events.eventgrid_endpoint, key=events.eventgrid_key))
        else:
            from azure.identity import DefaultAzureCredential

            token = entra_token(DefaultAzureCredential())
            sinks.append(EventGridSink(events.eventgrid_endpoint, token=token))
    if events.webhooks and not events.webhook_secrets:
        raise ConfigError("PADDOCK_EVENTS_WEBHOOKS needs PADDOCK_EVENTS_WEBHOOK_SECRET")
    sinks.extend(WebhookSink(url, events.webhook_secrets) for url in events.webhooks)
    return Publisher(store, sinks, source=events.source)


def _events_client(settings: Settings) -> object:
    import boto3

    return boto3.client("events", endpoint_url=settings.storage.aws_endpoint_url or None)
