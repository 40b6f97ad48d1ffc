"""Webhook signatures: HMAC-SHA256 over the event id, a timestamp and the exact body.

Headers on every webhook request::

    webhook-id: <event id>               (stable across retries: deduplicate on it)
    webhook-timestamp: <unix seconds>    (when this attempt was signed)
    webhook-signature: v1,<base64 HMAC-SHA256(secret, "<id>.<timestamp>.<body>")>

A receiver recomputes the HMAC over the raw body, compares in constant time, refuses a
timestamp further than the tolerance from its clock (a captured request cannot be replayed
later) and remembers the ids it accepted within the tolerance (nor replayed sooner).
Several signatures may be listed, space-separated, while a secret is being rotated.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Mapping

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
VERSION = "v1"
DEFAULT_TOLERANCE_SECONDS = 300


class SignatureError(ValueError):
    """A webhook request whose signature, timestamp or id is not acceptable."""


def sign(secret: str, event_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value for one request."""
    message = f"{event_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return f"{VERSION},{base64.b64encode(digest).decode()}"


def signed_headers(
    secrets: tuple[str, ...], event_id: str, body: bytes, *, now: float | None = None
) -> dict[str, str]:
    """The three headers for ``body``, signed with every secret in ``secrets``."""
    stamp = int(time.time() if now is None else now)
    return {
        ID_HEADER: event_id,
        TIMESTAMP_HEADER: str(stamp),
        SIGNATURE_HEADER: " ".join(sign(s, event_id, stamp, body) for s in secrets),
    }


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> str:
    """Check one received request; return its event id. ``headers`` keys are lower-case.

    Raises ``SignatureError`` for a missing header, a timestamp outside the tolerance, or no
    matching signature. Replays within the tolerance are the caller's to refuse, by the id.
    """
    event_id = headers.get(ID_HEADER)
    stamp = headers.get(TIMESTAMP_HEADER)
    given = headers.get(SIGNATURE_HEADER)
    if not event_id or not stamp or not given:
        raise SignatureError("missing webhook-id, webhook-timestamp or webhook-signature")
    try:
        sent = int(stamp)
    except ValueError:
        raise SignatureError("webhook-timestamp is not a number") from None
    if abs((time.time() if now is None else now) - sent) > tolerance_seconds:
        raise SignatureError("webhook-timestamp is outside the tolerance (replayed or skewed)")
    want = sign(secret, event_id, sent, body).encode()
    if not any(hmac.compare_digest(want, part.encode()) for part in given.split()):
        raise SignatureError("no webhook-signature matches")
    return event_id
