"""Where events go: Amazon EventBridge, Azure Event Grid (CloudEvents schema), webhooks.

Each sink delivers a batch or raises ``DeliveryError``; the caller (:mod:`core.events.outbox`)
records what was delivered and retries the rest later. Clients are injected, so tests point
them at local servers (moto, a receiver on 127.0.0.1).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from core.errors import PaddockError
from core.events.cloudevent import CloudEvent
from core.events.signing import signed_headers

EVENTBRIDGE_SOURCE = "com.paddock"
EVENTBRIDGE_BATCH = 10
"""PutEvents takes at most 10 entries per call."""
EVENTGRID_SCOPE = "https://eventgrid.azure.net/.default"
EVENTGRID_API_VERSION = "2018-01-01"
TIMEOUT_SECONDS = 5.0
TokenSource = Callable[[], str]


class DeliveryError(PaddockError):
    """A receiver did not take an event; retried later."""

    retryable = True


class Sink(Protocol):
    """One destination for events."""

    @property
    def name(self) -> str:
        """Stable name for the delivery ledger (``eventbridge:<bus>``, ``webhook:<url>``)."""
        ...

    def deliver(self, events: Sequence[CloudEvent]) -> None:
        """Deliver every event or raise ``DeliveryError``."""
        ...


class EventBridgeSink:
    """PutEvents on one bus: ``DetailType`` is the CloudEvents type, ``Detail`` the whole
    structured event (rules match on ``detail.type``, ``detail.paddocktenant``...)."""

    def __init__(self, client: Any, bus: str) -> None:
        self._client = client
        self._bus = bus

    @property
    def name(self) -> str:
        return f"eventbridge:{self._bus}"

    def deliver(self, events: Sequence[CloudEvent]) -> None:
        for start in range(0, len(events), EVENTBRIDGE_BATCH):
            self._put(events[start : start + EVENTBRIDGE_BATCH])

    def _put(self, events: Sequence[CloudEvent]) -> None:
        entries = [
            {
                "Source": EVENTBRIDGE_SOURCE,
                "DetailType": e.type,
                "Detail": json.dumps(e.to_dict()),
                "EventBusName": self._bus,
                "Time": e.time,
                "Resources": [],
            }
            for e in events
        ]
        try:
            reply = self._client.put_events(Entries=entries)
        except Exception as exc:  # botocore's errors: any of them means "not delivered"
            raise DeliveryError(f"eventbridge {self._bus}: {exc}") from exc
        if reply.get("FailedEntryCount"):
            codes = {r.get("ErrorCode") for r in reply.get("Entries", []) if r.get("ErrorCode")}
            raise DeliveryError(f"eventbridge {self._bus}: entries failed ({', '.join(codes)})")


class EventGridSink:
    """POST a CloudEvents batch to an Event Grid topic with an access key or an Entra token."""

    def __init__(
        self, endpoint: str, *, key: str | None = None, token: TokenSource | None = None
    ) -> None:
        if (key is None) == (token is None):
            raise ValueError("an Event Grid sink needs exactly one of key and token")
        self._endpoint = endpoint
        self._key = key
        self._token = token

    @property
    def name(self) -> str:
        return f"eventgrid:{self._endpoint}"

    def deliver(self, events: Sequence[CloudEvent]) -> None:
        body = json.dumps([e.to_dict() for e in events]).encode()
        headers = {"content-type": "application/cloudevents-batch+json; charset=utf-8"}
        if self._key is not None:
            headers["aeg-sas-key"] = self._key
        else:
            assert self._token is not None
            try:
                headers["authorization"] = f"Bearer {self._token()}"
            except Exception as exc:  # azure-identity: no token now, try again later
                raise DeliveryError(f"eventgrid: no Entra token: {exc}") from exc
        sep = "&" if "?" in self._endpoint else "?"
        _post(f"{self._endpoint}{sep}api-version={EVENTGRID_API_VERSION}", body, headers)


class WebhookSink:
    """POST each event to an operator's URL, signed (see :mod:`core.events.signing`)."""

    def __init__(self, url: str, secrets: tuple[str, ...]) -> None:
        if not secrets:
            raise ValueError("a webhook needs a signing secret")
        self._url = url
        self._secrets = secrets

    @property
    def name(self) -> str:
        return f"webhook:{self._url}"

    def deliver(self, events: Sequence[CloudEvent]) -> None:
        for event in events:
            body = json.dumps(event.to_dict()).encode()
            headers = {"content-type": "application/cloudevents+json; charset=utf-8"}
            headers |= signed_headers(self._secrets, event.id, body)
            _post(self._url, body, headers)


def entra_token(credential: Any, scope: str = EVENTGRID_SCOPE) -> TokenSource:
    """A token source over an azure-identity credential (it caches and refreshes)."""

    def token() -> str:
        return str(credential.get_token(scope).token)

    return token


def _post(url: str, body: bytes, headers: dict[str, str]) -> None:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as resp:
            status = resp.status
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"{_where(url)} answered {exc.code}") from exc
    except (OSError, ValueError) as exc:
        raise DeliveryError(f"{_where(url)}: {exc}") from exc
    if not 200 <= status < 300:
        raise DeliveryError(f"{_where(url)} answered {status}")


def _where(url: str) -> str:
    """The URL without its query (a key or token may sit there)."""
    return url.split("?", 1)[0]
