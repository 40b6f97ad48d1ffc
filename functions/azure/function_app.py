"""Azure Functions (Python v2 programming model): the Paddock API and the queue worker.

Thin: one HTTP trigger per route of the core route table (plus a catch-all so unknown paths
and methods get core's JSON 404/405), each turning ``func.HttpRequest`` into a core
``ApiRequest``; and a queue trigger on the work queue feeding the core worker. host.json sets
``routePrefix`` to "" so the paths are the same as on AWS.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

import azure.functions as func

from core.api.http import ApiRequest
from core.api.paths import OPERATIONS
from core.entry import LazyApi, LazyWorker, MessageHandler, RequestHandler

QUEUE_CONNECTION = "AzureWebJobsStorage"
"""App-setting prefix of the storage account holding the work queue (identity-based:
``AzureWebJobsStorage__accountName``)."""
QUEUE_NAME = "%PADDOCK_QUEUE_NAME%"
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


def to_api_request(req: func.HttpRequest, invocation_id: str | None = None) -> ApiRequest:
    """A Functions HTTP request as a core request."""
    return ApiRequest(
        method=req.method.upper(),
        path=urlsplit(req.url).path or "/",
        query=dict(req.params),
        headers=dict(req.headers),
        body=req.get_body() or b"",
        request_id=invocation_id,
    )


def make_app(api: RequestHandler, worker: MessageHandler) -> func.FunctionApp:
    """The function app: HTTP triggers for ``api``, the queue trigger for ``worker``."""
    app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

    def serve(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
        response = api.handle(to_api_request(req, getattr(context, "invocation_id", None)))
        return func.HttpResponse(
            body=response.body,
            status_code=response.status,
            headers=response.headers,
            mimetype=response.headers.get("content-type"),
        )

    for op in OPERATIONS:
        _http_function(app, op.operation_id, op.path.lstrip("/"), [op.method], serve)
    _http_function(app, "fallback", "{*path}", ALL_METHODS, serve)

    @app.function_name(name="worker")
    @app.queue_trigger(arg_name="msg", queue_name=QUEUE_NAME, connection=QUEUE_CONNECTION)
    def work(msg: func.QueueMessage) -> None:
        # Raising makes the host retry the message and, after maxDequeueCount, move it to
        # <queue>-poison.
        worker.process_body(msg.get_body())

    return app


def _http_function(
    app: func.FunctionApp,
    name: str,
    route: str,
    methods: list[str],
    serve: Callable[[func.HttpRequest, func.Context], func.HttpResponse],
) -> None:
    def trigger(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
        return serve(req, context)

    app.function_name(name=name)(app.route(route=route, methods=methods)(trigger))


# Built once per host process; core and its clients on the first request or message.
app = make_app(LazyApi(), LazyWorker())
