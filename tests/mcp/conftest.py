"""An MCP source for the tests: ``paddock mcp serve`` over stdio, fronting a local service."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from paddock.local.servers import LocalServer
from tests.drift.service import SupplierService


@pytest.fixture()
def supplier(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[SupplierService, str]]:
    """The local supplier service and its URL."""
    monkeypatch.chdir(tmp_path)  # the server's state and traces stay in the test's folder
    svc = SupplierService()
    with LocalServer(svc.app) as server:
        yield svc, server.url


@pytest.fixture()
def source(supplier: tuple[SupplierService, str]) -> tuple[SupplierService, str]:
    """The supplier service and an MCP source serving its spec."""
    svc, url = supplier
    # Paddock's own server: the operator trusts its side-effect annotations
    return (
        svc,
        (
            f"mcp+stdio:{sys.executable} -m paddock mcp serve --store memory "
            f"--catalog {url}/openapi.json#trust-hints"
        ),
    )
