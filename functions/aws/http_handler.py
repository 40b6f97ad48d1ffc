"""AWS Lambda behind API Gateway (HTTP API, payload v2): the Paddock API.

Thin: Powertools routes the event, this module turns it into a core ``ApiRequest``, and core
does the rest (auth, validation, behaviour, errors). Request validation is core's, not
Powertools', so the Azure adapter answers every request byte for byte the same. Core is built
on the first request (``LazyApi``), so the cold import costs little more than Powertools'.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from core.api.http import ApiRequest
from core.api.paths import OPERATIONS
from core.entry import LazyApi, RequestHandler

logger = Logger(service="paddock-api")
metrics = Metrics(namespace="Paddock", service="paddock-api")
copy_config_to_registered_loggers(source_logger=logger, include={"paddock.api"})

LambdaHandler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def to_api_request(app: APIGatewayHttpResolver) -> ApiRequest:
    """The current API Gateway event as a core request."""
    event = app.current_event
    raw = event.body or ""
    body = base64.b64decode(raw) if event.is_base64_encoded else raw.encode()
    return ApiRequest(
        method=event.http_method.upper(),
        path=event.path,
        query=dict(parse_qsl(event.raw_query_string or "", keep_blank_values=True)),
        headers=dict(event.headers or {}),
        body=body,
        request_id=event.request_context.request_id,
    )


def make_handler(api: RequestHandler) -> LambdaHandler:
    """A Lambda handler serving ``api``: every route of the core route table, plus core's own
    404/405 answers for everything else."""
    app = APIGatewayHttpResolver()

    def dispatch(**_: str) -> Response[str]:
        request = to_api_request(app)
        response = api.handle(request)
        _count(response.status)
        return Response(
            status_code=response.status,
            content_type=response.headers.get("content-type"),
            body=response.body.decode(),
            headers=response.headers,
        )

    for op in OPERATIONS:
        rule = op.path.replace("{", "<").replace("}", ">")
        app.route(rule, method=op.method)(dispatch)
    app.not_found(lambda _exc: dispatch())

    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return app.resolve(event, context)

    # Powertools' decorators are typed loosely (``log_metrics`` returns ``Callable[..., Any]``):
    # applied as calls, the handler keeps its signature.
    measured: LambdaHandler = metrics.log_metrics(handler, raise_on_empty_metrics=False)
    return logger.inject_lambda_context(
        measured, correlation_id_path=correlation_paths.API_GATEWAY_HTTP
    )


def _count(status: int) -> None:
    metrics.add_metric(name="Requests", unit=MetricUnit.Count, value=1)
    if status >= 500:
        metrics.add_metric(name="ServerErrors", unit=MetricUnit.Count, value=1)
    elif status >= 400:
        metrics.add_metric(name="ClientErrors", unit=MetricUnit.Count, value=1)


# Built once per cold start; core, its clients and the key set on the first request.
handler = make_handler(LazyApi())
