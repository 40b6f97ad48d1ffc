"""One router, two wires: the same operation imported from its OpenAPI spec and from an MCP
server goes over HTTP or through the MCP server, by its binding alone."""

from __future__ import annotations

import sys

from core.catalog import Catalog
from core.domain import HttpBinding, McpBinding, Plan, Run, RunStatus
from core.execution.base import CallContext
from core.guardrails.base import PassThroughGuard
from core.orchestrator.engine import Orchestrator
from core.runtime import default_executor
from core.state.memory import MemoryStore
from paddock.testing.planner import ScriptedPlanner
from tests.drift.service import SupplierService
from tests.telemetry.support import Recorder, call, named

CTX = CallContext(run_id="run_dispatch", step_index=0, call_index=0)


def test_the_router_sends_each_tool_over_its_own_binding(
    supplier: tuple[SupplierService, str], source: tuple[SupplierService, str]
) -> None:
    svc, url = supplier
    _, src = source
    over_http = Catalog.from_sources([f"{url}/openapi.json"]).get("getSupplier")
    over_mcp = Catalog.from_sources([src]).get("getSupplier")
    assert isinstance(over_http.binding, HttpBinding)
    assert isinstance(over_mcp.binding, McpBinding)
    router = default_executor()

    direct = router.execute(over_http, {"name": "Acme"}, CTX)
    assert direct.ok and direct.body == {"ID": "S-17", "name": "Acme"}
    assert svc.requests == [("GET", "Acme")]

    # The MCP server (Paddock's own) answers with its run's outcome around the same result:
    # proof the call went through the server, not straight to the service.
    relayed = router.execute(over_mcp, {"name": "Acme"}, CTX)
    assert relayed.ok and relayed.status_code == 200, relayed.error
    assert relayed.body["status"] == "done"
    assert relayed.body["result"] == {"ID": "S-17", "name": "Acme"}
    assert svc.requests == [("GET", "Acme"), ("GET", "Acme")]


def test_an_mcp_call_is_traced_with_mcp_attributes_not_http_ones(
    source: tuple[SupplierService, str],
) -> None:
    _, src = source
    catalog = Catalog.from_sources([src])
    recorder = Recorder()
    planner = ScriptedPlanner(
        [
            Plan(reasoning="look up", calls=[call("getSupplier", name="Acme")]),
            Plan(reasoning="done", final_answer="found"),
        ]
    )
    orch = Orchestrator(
        store=MemoryStore(),
        catalogs=lambda run: catalog,
        planners=lambda run: planner,
        guard=PassThroughGuard(),
        executor=default_executor(),
        tracing=recorder.tracer(),
    )
    orch.create(Run(id="run_traced", goal="look up Acme"))
    assert orch.advance("run_traced").run.status is RunStatus.SUCCEEDED
    [span] = named(recorder.spans(), "tools/call getSupplier")
    attrs = span["attributes"]
    assert attrs["mcp.method.name"] == "tools/call" and attrs["gen_ai.tool.name"] == "getSupplier"
    assert attrs["paddock.tool.binding"] == "mcp" and "server.address" not in attrs  # stdio
    assert not any(key.startswith(("http.", "url.")) for key in attrs)


def test_a_server_command_with_a_hash_is_called_as_listed(
    supplier: tuple[SupplierService, str],
) -> None:
    # The operator's options follow the last '#'; the binding keeps the command whole, so the
    # call starts the very server the listing came from.
    _, url = supplier
    command = (
        f"{sys.executable} -m paddock mcp serve --store memory --catalog {url}/openapi.json#v1"
    )
    tool = Catalog.from_sources([f"mcp+stdio:{command}#trust-hints"]).get("getSupplier")
    assert tool.binding == McpBinding(server=f"mcp+stdio:{command}", tool="getSupplier")
    result = default_executor().execute(tool, {"name": "Acme"}, CTX)
    assert result.ok and result.body["result"] == {"ID": "S-17", "name": "Acme"}, result.error
