"""MCP tools under the identity layer: like HTTP tools, no valid capability token, no call."""

from __future__ import annotations

from core.catalog import Catalog
from core.domain import CallStatus, Plan, ProposedCall, Run
from core.execution.base import CallContext
from core.guardrails import PolicyGuard
from core.orchestrator.engine import Orchestrator
from core.runtime import default_executor
from core.state.memory import MemoryStore
from paddock.local.identity import local_identity_bundle
from paddock.testing.planner import ScriptedPlanner
from tests.drift.service import SupplierService


def test_an_mcp_call_without_a_capability_token_is_refused(
    source: tuple[SupplierService, str],
) -> None:
    svc, src = source
    tool = Catalog.from_sources([src]).find("getSupplier")
    assert tool is not None
    identity, _ = local_identity_bundle()
    forged = "eyJhbGciOiJFZERTQSJ9.e30.c2ln"
    for token in (None, forged):
        result = default_executor(identity).execute(
            tool,
            {"name": "Acme"},
            CallContext(run_id="run_x", step_index=0, call_index=0, capability_token=token),
        )
        assert result.refused is not None and "capability token" in result.refused
    assert svc.requests == []  # nothing reached the service behind the MCP server


def test_an_mcp_call_with_its_capability_token_goes_through(
    source: tuple[SupplierService, str],
) -> None:
    svc, src = source
    catalog = Catalog.from_sources([src])
    identity, _ = local_identity_bundle()
    planner = ScriptedPlanner(
        [
            Plan(
                reasoning="look up",
                calls=[ProposedCall(id="c1", tool="getSupplier", args={"name": "Acme"})],
            )
        ]
    )
    orch = Orchestrator(
        store=MemoryStore(),
        catalogs=lambda run: catalog,
        planners=lambda run: planner,
        guard=PolicyGuard(),
        executor=default_executor(identity),
        capabilities=identity.minter,
    )
    orch.create(Run(id="run_mcp_cap", goal="look up Acme"))
    call = orch.advance("run_mcp_cap").run.steps[0].calls[0]
    assert call.status is CallStatus.DONE, call.error
    assert ("GET", "Acme") in svc.requests
