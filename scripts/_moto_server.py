"""moto's server with one fidelity fix and one cost fix for DynamoDB.

DynamoDB applies a conditional write (``put_item`` with a ``ConditionExpression``,
``transact_write_items``) atomically: of two writers that both expect version 3, exactly one
succeeds. moto 5.2 evaluates the condition and then writes, with no lock, while its server
handles requests on many threads, so two concurrent writers can both pass the check. That
breaks the very property the RunStore contract tests exist to check (optimistic concurrency),
and it made them fail at random. Serialising DynamoDB requests restores the service's
behaviour; every other service (SQS long polls included) keeps moto's threaded server.

Cost: before a transaction moto deep-copies every table it touches, items and all, to roll
back on failure, so each ``transact_write_items`` costs time in proportion to the whole table
(a fan-out bench of 1,000 runs measured that copy, not DynamoDB, whose cost per write does not
grow with the table). With requests applied one at a time, a rollback needs only the table's
item index as it was: a ``Put`` or ``Delete`` replaces an item object, never changes one in
place. A table is therefore copied with its index copied and its items shared; moto's other
deep copies (an ``Update``'s old item) are left as they are.

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


def cheap_rollback_copies() -> None:
    """Make moto's pre-transaction copy of a table copy its item index, not its items."""
    import copy as copy_module
    import types

    import moto.dynamodb.models as dynamodb_models
    from moto.dynamodb.models.table import Table

    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        if not isinstance(value, Table):
            return copy_module.deepcopy(value, memo)
        snapshot = copy_module.copy(value)
        index = copy_module.copy(value.items)  # a defaultdict stays one
        for key, inner in index.items():
            if isinstance(inner, dict):
                index[key] = dict(inner)
        snapshot.items = index
        return snapshot

    shim = types.SimpleNamespace(**{**vars(copy_module), "deepcopy": deepcopy})
    setattr(dynamodb_models, "copy", shim)  # noqa: B010 (a module global moto reads)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args(argv)
    os.environ.setdefault("MOTO_PORT", str(args.port))  # moto builds SQS queue URLs from it
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    cheap_rollback_copies()
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
