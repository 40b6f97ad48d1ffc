"""An MCP server's tools as a catalog source, called through the loop. The MCP server here is
``paddock mcp serve`` itself in front of a real local HTTP service."""

from __future__ import annotations

import pytest

from core.catalog import Catalog
from core.domain import (
    CallStatus,
    McpBinding,
    Plan,
    ProposedCall,
    Run,
    RunStatus,
    SideEffect,
    Trust,
)
from core.guardrails import PolicyGuard
from core.orchestrator.engine import Orchestrator
from core.runtime import default_executor
from core.state.memory import MemoryStore
from paddock.cli.main import main
from paddock.testing.planner import ScriptedPlanner
from tests.drift.service import SupplierService


def test_mcp_tools_are_imported_and_called_through_the_loop(
    source: tuple[SupplierService, str],
) -> None:
    svc, src = source
    catalog = Catalog.from_sources([src])
    tools = {t.name: t for t in catalog.tools}
    assert {n: t.side_effect for n, t in tools.items()} == {
        "getSupplier": SideEffect.READ,
        "createOrder": SideEffect.WRITE,
        "deleteSupplier": SideEffect.DESTRUCTIVE,
    }
    assert all(t.trust is Trust.UNTRUSTED for t in tools.values())
    server = src.removesuffix("#trust-hints")  # the options shape the import, not the calls
    assert all(t.binding == McpBinding(server=server, tool=t.name) for t in tools.values())
    assert catalog.specs[0].format == "mcp" and catalog.specs[0].title == "paddock"

    planner = ScriptedPlanner(
        [
            Plan(
                reasoning="look up",
                calls=[ProposedCall(id="c1", tool="getSupplier", args={"name": "Acme"})],
            ),
            Plan(
                reasoning="remove",
                calls=[ProposedCall(id="c2", tool="deleteSupplier", args={"name": "Acme"})],
            ),
        ]
    )
    orch = Orchestrator(
        store=MemoryStore(),
        catalogs=lambda run: catalog,
        planners=lambda run: planner,
        guard=PolicyGuard(),
        executor=default_executor(),
    )
    orch.create(Run(id="run_mcp", goal="look up Acme, then remove it"))
    run = orch.advance("run_mcp").run
    read = run.steps[0].calls[0]
    assert read.status is CallStatus.DONE and read.status_code == 200
    assert read.result["result"] == {"ID": "S-17", "name": "Acme"}
    assert ("GET", "Acme") in svc.requests
    assert run.status is RunStatus.AWAITING_APPROVAL  # the outer guard holds the delete
    assert run.pending_approvals[0].tool == "deleteSupplier"
    assert not any(r[0] == "DELETE" for r in svc.requests)


def test_a_bad_mcp_source_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "import", "mcp+stdio:/nonexistent/server"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("paddock: error: mcp+stdio:/nonexistent/server: MCP server failed")
    assert len(err.splitlines()) == 1
    assert main(["catalog", "import", "mcp+ftp://x"]) == 2
    assert "an MCP source is" in capsys.readouterr().err
