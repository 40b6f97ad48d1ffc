"""Small signed cookie values: JSON, base64url, an HMAC-SHA256 tag, an expiry.

Signed, not encrypted: they hold nothing secret (who is signed in, a sign-in's state), but
the browser cannot change them. Each use passes its own ``context`` so a value made for one
purpose (the sign-in flow) never verifies as another (the session).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any


def seal(secret: str, context: bytes, payload: dict[str, Any], *, seconds: int) -> str:
    """``payload`` with an expiry ``seconds`` from now, signed for ``context``."""
    body = dict(payload, exp=int(time.time()) + seconds)
    text = _b64(json.dumps(body, separators=(",", ":"), sort_keys=True).encode())
    return f"{text}.{_tag(secret, context, text)}"


def unseal(secret: str, context: bytes, value: str | None) -> dict[str, Any] | None:
    """The payload of a value :func:`seal` made for ``context``; ``None`` when it is missing,
    altered, made for another context or with another key, or expired."""
    if not value or value.count(".") != 1:
        return None
    text, tag = value.split(".")
    if not hmac.compare_digest(tag.encode(), _tag(secret, context, text).encode()):
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except ValueError:
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("exp"), int):
        return None
    return payload if payload["exp"] > time.time() else None


def _tag(secret: str, context: bytes, text: str) -> str:
    digest = hmac.new(secret.encode(), context + b"\0" + text.encode(), hashlib.sha256).digest()
    return _b64(digest)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")
