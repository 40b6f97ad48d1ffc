"""Tool names: ``^[a-zA-Z0-9_-]{1,64}$``, unique, stable."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Container

MAX_NAME = 64
NAME_RE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def sanitize(raw: str) -> str:
    """``raw`` as a legal tool name ('' when nothing usable is left).

    Names longer than 64 characters keep a short hash of the whole, so two long names
    that share a prefix stay apart.
    """
    name = re.sub(r"[^a-zA-Z0-9_-]+", "_", raw)
    name = re.sub(r"_{2,}", "_", name).strip("_")
    if len(name) > MAX_NAME:
        digest = hashlib.sha1(raw.encode()).hexdigest()[:8]
        name = f"{name[: MAX_NAME - 9].rstrip('_')}_{digest}"
    return name


def synthesize(method: str, path: str) -> str:
    """A name for an operation without an ``operationId``: ``get_orders_orderId``."""
    return sanitize(f"{method.lower()}_{path.replace('{', '').replace('}', '')}") or method.lower()


def slug(title: str) -> str:
    """The spec's title as a name prefix: ``Selling Partner API`` -> ``selling_partner_api``."""
    return sanitize(re.sub(r"[^a-z0-9]+", "_", title.lower()))[:24].strip("_") or "spec"


def unique(name: str, taken: Container[str]) -> str:
    """``name``, or ``name_2``, ``name_3``, ... (still at most 64 characters)."""
    if name not in taken:
        return name
    n = 2
    while True:
        suffix = f"_{n}"
        candidate = f"{name[: MAX_NAME - len(suffix)]}{suffix}"
        if candidate not in taken:
            return candidate
        n += 1
