"""An MCP client session against ``paddock mcp serve`` over stdio (the official ``mcp`` SDK on
both sides): tools are listed, a read is allowed, a destructive call is held for approval."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters

from paddock.cli.main import main
from paddock.local.servers import LocalServer
from tests.drift.service import SupplierService

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def service() -> Iterator[tuple[SupplierService, str]]:
    svc = SupplierService()
    with LocalServer(svc.app) as server:
        yield svc, server.url


def session(home: Path, spec_url: str, steps: Any) -> Any:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "paddock", "mcp", "serve", "--catalog", spec_url],
        cwd=str(ROOT),
        env={
            "PADDOCK_HOME": str(home),
            "PYTHONPATH": str(ROOT),
            "PATH": os.environ.get("PATH", ""),
        },
    )

    async def run() -> Any:
        async with Client(params) as client:
            return await steps(client)

    return anyio.run(run)


def test_list_read_and_destructive_held(
    tmp_path: Path, service: tuple[SupplierService, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    svc, url = service

    async def steps(client: Client) -> dict[str, Any]:
        listed = await client.list_tools()
        read = await client.call_tool("getSupplier", {"name": "Acme"})
        delete = await client.call_tool("deleteSupplier", {"name": "Acme"})
        bad = await client.call_tool("createOrder", {"body": {"supplier_id": "S", "quantity": 0}})
        unknown = await client.call_tool("dropDatabase", {})
        return {
            "tools": listed.tools,
            "read": read,
            "delete": delete,
            "bad": bad,
            "unknown": unknown,
        }

    got = session(tmp_path, f"{url}/openapi.json", steps)
    tools = {t.name: t for t in got["tools"]}
    assert set(tools) == {"getSupplier", "createOrder", "deleteSupplier"}
    assert tools["deleteSupplier"].annotations.destructive_hint is True
    assert tools["getSupplier"].annotations.read_only_hint is True
    assert tools["getSupplier"].input_schema["required"] == ["name"]

    read = got["read"]
    assert not read.is_error and read.structured_content["status"] == "done"
    assert read.structured_content["decision"] == "allow"
    assert read.structured_content["result"] == {"ID": "S-17", "name": "Acme"}

    held = got["delete"]
    assert not held.is_error and held.structured_content["status"] == "awaiting_approval"
    assert "destructive_default" in held.structured_content["rule_ids"]
    assert "Held for human approval" in held.content[0].text
    assert ("DELETE", "Acme") not in svc.requests

    assert got["bad"].is_error and got["bad"].structured_content["status"] == "denied"
    assert not any(r[0] == "POST" for r in svc.requests)
    assert got["unknown"].is_error and "no tool named" in got["unknown"].content[0].text

    # The same approval flow as any run: a human releases it from the command line.
    monkeypatch.setenv("PADDOCK_HOME", str(tmp_path))
    assert (
        main(["approve", held.structured_content["run_id"], held.structured_content["approval_id"]])
        == 0
    )
    assert ("DELETE", "Acme") in svc.requests
    traces = (tmp_path / "traces.jsonl").read_text(encoding="utf-8")
    assert read.structured_content["run_id"] in traces


def test_serve_without_a_catalog_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PADDOCK_HOME", str(tmp_path))
    assert main(["mcp", "serve"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        "paddock: error: no catalog: pass --catalog SPEC or store specs with "
        "`paddock catalog import SPEC --save`"
    )
