"""The supply-chain demo with identities: every call carries the credential its API expects,
and every local service verifies it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from core.domain import CallStatus, Decision, Grant, Plan, ProposedCall, Run, RunStatus, Tool
from core.execution.http import HttpExecutor
from core.identity import CapabilityMinter, CapabilityVerifier, Identity, KeyRing
from core.runtime import build_orchestrator
from core.state.memory import MemoryStore
from examples import example_workflows, get_example, rule_scripts
from examples.supply_chain import SupplyChainServices
from examples.supply_chain.identity import local_verifiers
from paddock.local.identity import LocalIdentity, local_identity_bundle
from tests.identity.scenario import run_scenario


@pytest.fixture()
def local() -> tuple[Identity, LocalIdentity]:
    return local_identity_bundle()


@pytest.fixture()
def services(local: tuple[Identity, LocalIdentity]) -> Iterator[SupplyChainServices]:
    with SupplyChainServices(verify_auth=local_verifiers(local[1])) as running:
        yield running


def test_every_call_is_authenticated_by_its_scheme(
    services: SupplyChainServices, local: tuple[Identity, LocalIdentity]
) -> None:
    run = run_scenario(services, MemoryStore(), identity=local[0])
    assert run.status is RunStatus.SUCCEEDED, run.reason
    assert services.erp.counts["purchase_orders"] == 1
    for key, service in services.services.items():
        assert service.requests, key
        assert all(r.status is not None and r.status != 401 for r in service.requests), key
    assert all(
        r.authorization and r.authorization.startswith("AWS4-HMAC-SHA256 ")
        for r in services.portal.requests
    )
    assert all(
        r.authorization and r.authorization.startswith("Bearer ey") for r in services.erp.requests
    )
    assert all(
        r.headers.get("x-api-key", "").startswith("pdk_local_") for r in services.risk.requests
    )
    assert local[1].entra.issued and set(local[1].entra.issued) == {"api://paddock-erp"}


def test_executed_calls_record_their_capability_claims(
    services: SupplyChainServices, local: tuple[Identity, LocalIdentity]
) -> None:
    run = run_scenario(services, MemoryStore(), identity=local[0])
    executed = [(s.index, c) for s in run.steps for c in s.calls if c.executed]
    assert executed
    for step_index, call in executed:
        claims = call.capability
        assert claims is not None
        assert (claims["run"], claims["step"], claims["tool"], claims["tenant"]) == (
            run.id,
            step_index,
            call.tool,
            "acme",
        )
        assert call.decision is not None and claims["decision"] == call.decision.id
        assert claims["scope"]["scheme"] in ("aws_sigv4", "entra", "api_key")
    denied = [c for s in run.steps for c in s.calls if c.status is CallStatus.DENIED]
    assert denied and all(c.capability is None for c in denied)  # never minted
    po = next(c for _, c in executed if c.tool == "create_purchase_order")
    assert po.capability is not None and po.capability["approval"] == po.approval_id


def test_without_credentials_the_services_refuse(services: SupplyChainServices) -> None:
    run = run_scenario(services, MemoryStore(), executor=HttpExecutor())
    statuses = {r.status for s in services.services.values() for r in s.requests}
    assert statuses == {401}
    assert services.erp.counts["purchase_orders"] == 0
    executed = [c for s in run.steps for c in s.calls if c.executed]
    assert executed and {c.status_code for c in executed} == {401}


def test_credentials_of_another_local_identity_are_refused(services: SupplyChainServices) -> None:
    stranger, _ = local_identity_bundle()  # other keys, other issuer key, other API key
    run_scenario(services, MemoryStore(), identity=stranger)
    statuses = {r.status for s in services.services.values() for r in s.requests}
    assert statuses == {401}
    assert services.erp.counts["purchase_orders"] == 0


def _run_with(services: SupplyChainServices, identity: Identity, **kwargs: object) -> Run:
    scenario = get_example("supply-chain")
    orch = build_orchestrator(
        store=MemoryStore(),
        identity=identity,
        workflows=example_workflows(),
        rule_scripts=rule_scripts(),
        **kwargs,  # type: ignore[arg-type]
    )
    run = Run(
        id="run_refused",
        goal=scenario.goal,
        scenario=scenario.name,
        catalog=[str(p) for p in scenario.spec_paths()],
        base_urls=dict(services.base_urls),
        grant=Grant(tools=["get_stock"]),
        planner="rules",
        tenant="acme",
    )
    return orch.advance(orch.create(run).id, max_steps=1).run


def test_a_call_outside_the_grant_gets_no_token_and_is_recorded(
    services: SupplyChainServices, local: tuple[Identity, LocalIdentity]
) -> None:
    # The guard here lets everything through: the token minter still holds the grant's line.
    inside = _run_with(
        services, local[0], guard=_AllowAll(), planners=lambda run: _OneCall("get_stock")
    )
    [call] = inside.steps[0].calls
    assert call.status is CallStatus.DONE and call.status_code == 200
    outside = _run_with(
        services, local[0], guard=_AllowAll(), planners=lambda run: _OneCall("search_suppliers")
    )
    [refused] = outside.steps[0].calls
    assert refused.error == "refused: tool search_suppliers is outside the run's grant"
    assert services.portal.requests == []


def test_an_expired_token_is_refused_and_recorded(
    services: SupplyChainServices, local: tuple[Identity, LocalIdentity]
) -> None:
    keys = KeyRing.generate()
    stale = Identity(
        minter=CapabilityMinter(keys, ttl=-5),
        verifier=CapabilityVerifier(keys.verifying()),
        authorizer=local[0].authorizer,
    )
    run = _run_with(services, stale, guard=_AllowAll(), planners=lambda run: _OneCall("get_stock"))
    [call] = run.steps[0].calls
    assert call.error == "refused: capability token expired"
    assert call.capability is not None and call.capability["tool"] == "get_stock"
    assert services.erp.requests == []


class _AllowAll:
    def check(
        self, run: Run, tool: Tool | None, call: ProposedCall, *, confidence: float | None = None
    ) -> Decision:
        from core.guardrails.base import PassThroughGuard

        return PassThroughGuard().check(run, tool, call, confidence=confidence)


class _OneCall:
    label = "one call"

    def __init__(self, tool: str) -> None:
        self.tool = tool

    def plan(self, context: Any) -> Plan:
        args = (
            {"plant": "DE01", "part": "P-100"}
            if self.tool == "get_stock"
            else {"part": "P-100", "quantity": 500}
        )
        return Plan(
            calls=[ProposedCall(id="call-1", tool=self.tool, args=args)],
            reasoning="test",
            confidence=1.0,
        )
