"""Run events (CloudEvents 1.0) and their delivery to EventBridge, Event Grid and webhooks.

See docs/events.md. The run is the outbox (:func:`run_events`); :class:`Publisher` delivers
what a per-run ledger says is owed; the worker calls it after each slice and retries with
:func:`backoff`.
"""

from __future__ import annotations

from core.events.cloudevent import EVENT_NAMES, TYPE_PREFIX, CloudEvent, run_events
from core.events.outbox import Published, Publisher, backoff
from core.events.signing import SignatureError, sign, signed_headers, verify
from core.events.sinks import DeliveryError, EventBridgeSink, EventGridSink, Sink, WebhookSink

__all__ = [
    "EVENT_NAMES",
    "TYPE_PREFIX",
    "CloudEvent",
    "DeliveryError",
    "EventBridgeSink",
    "EventGridSink",
    "Published",
    "Publisher",
    "SignatureError",
    "Sink",
    "WebhookSink",
    "backoff",
    "run_events",
    "sign",
    "signed_headers",
    "verify",
]
