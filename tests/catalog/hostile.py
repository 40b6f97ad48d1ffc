"""Hostile catalog sources, as files and as a local server (shared by the catalog and API
tests)."""

from __future__ import annotations

import json
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

from tests.catalog.helpers import openapi

BOMB_BYTES = 1 << 30  # what the bomb expands to: 1 GiB


def gzip_bomb(expands_to: int = BOMB_BYTES) -> bytes:
    """A gzip member of ``expands_to`` spaces (about 1 MiB on disk), built without ever
    holding the expanded text."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b" " * (1 << 20)
    parts = [deflate.compress(b'{"openapi": "3.0.3", "x": "')]
    for _ in range(expands_to // len(block)):
        parts.append(deflate.compress(block))
    parts.append(deflate.compress(b'"}'))
    parts.append(deflate.flush())
    return b"".join(parts)


def deep_json(levels: int = 3000) -> bytes:
    return ('{"openapi": "3.0.3", "paths": {}, "x": ' + "[" * levels + "]" * levels + "}").encode()


def deep_yaml(levels: int = 3000) -> bytes:
    return ("openapi: 3.0.3\npaths: {}\nx: " + "[" * levels + "]" * levels + "\n").encode()


def unresolvable_ref() -> bytes:
    body = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Gone"}}}}
    spec = openapi(
        {
            "/a": {
                "post": {
                    "operationId": "a",
                    "requestBody": body,
                    "responses": {"200": {"description": "ok"}},
                }
            }
        }
    )
    return json.dumps(spec).encode()


VALID = json.dumps(
    openapi({"/a": {"get": {"operationId": "a", "responses": {"200": {"description": "ok"}}}}})
).encode()


class Site(BaseHTTPRequestHandler):
    """Serves the attacks; ``/hop`` redirects to ``/to-other-host``, which redirects off-host."""

    files: ClassVar[dict[str, bytes]] = {}

    def do_GET(self) -> None:
        port = self.server.server_address[1]
        redirects = {
            "/hop": f"http://127.0.0.1:{port}/to-other-host",
            "/to-other-host": f"http://localhost:{port}/valid.json",
            "/to-metadata": "http://metadata.internal.example/latest/spec.json",
        }
        if self.path in redirects:
            self.send_response(302)
            self.send_header("Location", redirects[self.path])
            self.end_headers()
            return
        body = self.files.get(self.path)
        if body is None:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def hostile_site(bomb: bytes) -> Iterator[str]:
    """A server on 127.0.0.1 with every attack; yields its base URL."""
    Site.files = {
        "/bomb.json.gz": bomb,
        "/deep.json": deep_json(),
        "/deep.yaml": deep_yaml(),
        "/valid.json": VALID,
        "/ref.json": unresolvable_ref(),
    }
    server = ThreadingHTTPServer(("127.0.0.1", 0), Site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
