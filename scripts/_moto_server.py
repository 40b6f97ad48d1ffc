"""moto's server with one fidelity fix: DynamoDB requests are applied one at a time.

DynamoDB applies a conditional write (``put_item`` with a ``ConditionExpression``,
``transact_write_items``) atomically: of two writers that both expect version 3, exactly one
succeeds. moto 5.2 evaluates the condition and then writes, with no lock, while its server
handles requests on many threads, so two concurrent writers can both pass the check. That
breaks the very property the RunStore contract tests exist to check (optimistic concurrency),
and it made them fail at random. Serialising DynamoDB requests restores the service's
behaviour; every other service (SQS long polls included) keeps moto's threaded server.

Usage: python scripts/_moto_server.py -H 127.0.0.1 -p PORT
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple

Wsgi = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def serialise_dynamodb(app: Wsgi) -> Wsgi:
    """Run DynamoDB requests (``X-Amz-Target: DynamoDB_20120810.*``) under one lock, body
    included, so each is applied whole before the next starts."""
    lock = threading.Lock()

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            return app(environ, start_response)
        with lock:
            result = app(environ, start_response)
            try:
                body = b"".join(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        return [body]

    return wrapped


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args(argv)
    os.environ.setdefault("MOTO_PORT", str(args.port))  # moto builds SQS queue URLs from it
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(
        args.host,
        args.port,
        serialise_dynamodb(app),
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
