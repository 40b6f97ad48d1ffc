"""An MCP source for the tests: ``paddock mcp serve`` over stdio, fronting a local service."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from paddock.local.servers import LocalServer
from tests.drift.service import SupplierService


@pytest.fixture()
def source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[SupplierService, str]]:
    monkeypatch.chdir(tmp_path)  # the server's state and traces stay in the test's folder
    svc = SupplierService()
    with LocalServer(svc.app) as server:
        # Paddock's own server: the operator trusts its side-effect annotations
        yield (
            svc,
            (
                f"mcp+stdio:{sys.executable} -m paddock mcp serve --store memory "
                f"--catalog {server.url}/openapi.json#trust-hints"
            ),
        )
