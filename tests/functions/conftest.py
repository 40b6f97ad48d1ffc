"""Events of the shape AWS delivers, built from the real samples in tests/data/events/."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from tests.api.world import _orders_server, issuer, operators, orders, world

__all__ = [
    "_orders_server",
    "http_event",
    "issuer",
    "operators",
    "orders",
    "sample",
    "sqs_records",
    "world",
]

EVENTS = Path(__file__).resolve().parents[1] / "data" / "events"


def sample(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return data


def http_event(
    method: str,
    path: str,
    *,
    query: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    body: bytes = b"",
) -> dict[str, Any]:
    """The real HTTP API (payload 2.0) sample, with only this request's fields replaced."""
    event = copy.deepcopy(sample("apiGatewayProxyV2Event.json"))
    event["rawPath"] = path
    event["rawQueryString"] = urlencode(dict(query or {}))
    if query:
        event["queryStringParameters"] = dict(query)
    else:
        event.pop("queryStringParameters", None)
    event["headers"] = {**event["headers"], **{k.lower(): v for k, v in (headers or {}).items()}}
    event["requestContext"]["http"].update({"method": method, "path": path})
    event.pop("pathParameters", None)  # API Gateway's $default route has none
    if body:
        event["body"] = body.decode()
    else:
        event.pop("body", None)
    event["isBase64Encoded"] = False
    return event


def sqs_records(bodies: Sequence[str], template: str = "sqsEvent.json") -> dict[str, Any]:
    """The real SQS sample with its records' bodies replaced (message ids kept or derived)."""
    event = copy.deepcopy(sample(template))
    records = event["Records"]
    out = []
    for i, body in enumerate(bodies):
        record = copy.deepcopy(records[i % len(records)])
        record["messageId"] = f"{record['messageId'][:-4]}{i:04d}"
        record["body"] = body
        out.append(record)
    event["Records"] = out
    return event
