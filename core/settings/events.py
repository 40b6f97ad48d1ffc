"""Where run events go (``core.events``): an EventBridge bus, an Event Grid topic, webhooks."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import BeforeValidator, Field, field_validator

from core.settings._base import EnvGroup

_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _list(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    return tuple(item.strip() for item in value.split(",") if item.strip())


class EventSettings(EnvGroup):
    """CloudEvents for run starts, approvals and outcomes (docs/events.md). No transport set:
    no events."""

    source: str = Field(default="/paddock", validation_alias="PADDOCK_EVENTS_SOURCE")
    """PADDOCK_EVENTS_SOURCE: the CloudEvents ``source`` (e.g. ``/paddock/prod``)."""
    eventbridge_bus: str | None = Field(
        default=None, validation_alias="PADDOCK_EVENTS_EVENTBRIDGE_BUS"
    )
    """PADDOCK_EVENTS_EVENTBRIDGE_BUS: the Amazon EventBridge bus (name or ARN) to put events
    on."""
    eventgrid_endpoint: str | None = Field(
        default=None, validation_alias="PADDOCK_EVENTS_EVENTGRID_ENDPOINT"
    )
    """PADDOCK_EVENTS_EVENTGRID_ENDPOINT: the Azure Event Grid topic endpoint (CloudEvents
    input schema); authenticated with the managed identity unless a key is set."""
    eventgrid_key: str | None = Field(
        default=None, validation_alias="PADDOCK_EVENTS_EVENTGRID_KEY", repr=False
    )
    """PADDOCK_EVENTS_EVENTGRID_KEY: the topic's access key (local tests; prefer the managed
    identity with the EventGrid Data Sender role)."""
    webhooks: Annotated[tuple[str, ...], BeforeValidator(_list)] = Field(
        default=(), validation_alias="PADDOCK_EVENTS_WEBHOOKS"
    )
    """PADDOCK_EVENTS_WEBHOOKS: comma-separated https URLs that receive every event, signed
    (http only to a loopback host)."""
    webhook_secrets: Annotated[tuple[str, ...], BeforeValidator(_list)] = Field(
        default=(), validation_alias="PADDOCK_EVENTS_WEBHOOK_SECRET", repr=False
    )
    """PADDOCK_EVENTS_WEBHOOK_SECRET: the HMAC key webhooks are signed with; two,
    comma-separated, while rotating (each request carries both signatures)."""
    max_attempts: int = Field(
        default=10, ge=1, le=50, validation_alias="PADDOCK_EVENTS_MAX_ATTEMPTS"
    )
    """PADDOCK_EVENTS_MAX_ATTEMPTS: delivery rounds (backoff 5 s doubling up to 15 min) before
    an undelivered event is given up and logged."""

    @field_validator("webhooks")
    @classmethod
    def _urls(cls, urls: tuple[str, ...]) -> tuple[str, ...]:
        for url in urls:
            parts = urlsplit(url)
            local = parts.scheme == "http" and parts.hostname in _LOOPBACK
            if not (parts.scheme == "https" and parts.hostname) and not local:
                raise ValueError(f"{url!r} must be an https URL (http only to a loopback host)")
        return urls

    @field_validator("webhook_secrets")
    @classmethod
    def _strong(cls, secrets: tuple[str, ...]) -> tuple[str, ...]:
        if any(len(s) < 16 for s in secrets):
            raise ValueError("each webhook secret must be at least 16 characters")
        return secrets

    @property
    def enabled(self) -> bool:
        return bool(self.eventbridge_bus or self.eventgrid_endpoint or self.webhooks)
