"""Lambda-shaped inputs for local development: API Gateway HTTP API (payload 2.0) events,
SQS events and a Lambda context, built the way AWS builds them."""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

REGION = "eu-central-1"
ACCOUNT = "123456789012"


def http_api_event(
    method: str,
    path: str,
    *,
    query: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    body: bytes = b"",
    source_ip: str = "127.0.0.1",
    stage: str = "$default",
) -> dict[str, Any]:
    """An API Gateway HTTP API (v2) proxy event for one request.

    Header names are lower-cased as API Gateway does; a body that is not UTF-8 text is sent
    base64-encoded with ``isBase64Encoded``.
    """
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    now = time.time()
    request_id = uuid.uuid4().hex[:16]
    raw_path = path if stage == "$default" else f"/{stage}{path}"
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": urlencode(dict(query or {})),
        "headers": lowered,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": "paddockdev",
            "domainName": lowered.get("host", "127.0.0.1"),
            "domainPrefix": "paddockdev",
            "http": {
                "method": method.upper(),
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": lowered.get("user-agent", ""),
            },
            "requestId": request_id,
            "routeKey": "$default",
            "stage": stage,
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if query:
        event["queryStringParameters"] = dict(query)
    if "cookie" in lowered:
        event["cookies"] = [c.strip() for c in lowered["cookie"].split(";") if c.strip()]
    if body:
        try:
            event["body"] = body.decode()
        except UnicodeDecodeError:
            event["body"] = base64.b64encode(body).decode()
            event["isBase64Encoded"] = True
    return event


@dataclass(frozen=True)
class SqsMessage:
    message_id: str
    receipt_handle: str
    body: str
    receive_count: int = 1


def sqs_event(
    messages: Sequence[SqsMessage],
    *,
    queue_arn: str = f"arn:aws:sqs:{REGION}:{ACCOUNT}:paddock-work",
) -> dict[str, Any]:
    """An SQS event-source-mapping event carrying ``messages``."""
    now = str(int(time.time() * 1000))
    return {
        "Records": [
            {
                "messageId": m.message_id,
                "receiptHandle": m.receipt_handle,
                "body": m.body,
                "attributes": {
                    "ApproximateReceiveCount": str(m.receive_count),
                    "SentTimestamp": now,
                    "SenderId": ACCOUNT,
                    "ApproximateFirstReceiveTimestamp": now,
                },
                "messageAttributes": {},
                "md5OfBody": hashlib.md5(m.body.encode()).hexdigest(),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": REGION,
            }
            for m in messages
        ]
    }


@dataclass
class LambdaContext:
    """The attributes of the Lambda runtime's context object that handlers and Powertools
    read."""

    function_name: str = "paddock-dev"
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    timeout_ms: int = 30_000
    _started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.function_name}"

    @property
    def function_version(self) -> str:
        return "$LATEST"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return "dev"

    def get_remaining_time_in_millis(self) -> int:
        elapsed = int((time.monotonic() - self._started) * 1000)
        return max(0, self.timeout_ms - elapsed)
