"""The supply-chain run with capability tokens presented to every service and checked there
once: the run succeeds, and a captured request replayed to the ERP is refused."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest

from core.domain import RunStatus, Tool
from core.execution.base import CallContext, ExecutionResult
from core.execution.hooks import CAPABILITY_HEADER
from core.execution.http import HttpExecutor
from core.identity import Identity, KeyRing
from core.state.memory import MemoryStore
from examples.supply_chain import SupplyChainServices
from examples.supply_chain.identity import local_verifiers
from paddock.local.identity import LocalIdentity, local_identity_bundle
from paddock.local.verify import all_of, capability_verifier
from tests.identity.scenario import run_scenario


@pytest.fixture()
def keys() -> KeyRing:
    return KeyRing.generate()


@pytest.fixture()
def local(keys: KeyRing) -> tuple[Identity, LocalIdentity]:
    return local_identity_bundle(keys)


@pytest.fixture()
def services(local: tuple[Identity, LocalIdentity], keys: KeyRing) -> Iterator[SupplyChainServices]:
    checks = {
        key: all_of(check, capability_verifier(keys.verifying()))
        for key, check in local_verifiers(local[1]).items()
    }
    with SupplyChainServices(verify_auth=checks) as running:
        yield running


class Presenting:
    """The identity's executor, presenting tokens; records each call's context."""

    def __init__(self, identity: Identity) -> None:
        self.contexts: list[CallContext] = []
        self.renewed: list[str | None] = []
        self._http = HttpExecutor(
            authorizer=identity.authorizer,
            verifier=identity.verifier,
            capability_header=CAPABILITY_HEADER,
        )

    def execute(self, tool: Tool, args: dict[str, Any], ctx: CallContext) -> ExecutionResult:
        self.contexts.append(ctx)
        result = self._http.execute(tool, args, ctx)
        if ctx.renew_capability is not None:  # what a retry of this call would be given
            self.renewed.append(ctx.renew_capability())
        return result


def _replay(services: SupplyChainServices, key: str, recorded: Any) -> httpx.Response:
    """Send a captured request again, byte for byte (the attacker's move)."""
    origin = httpx.URL(services.by_key[key]).copy_with(path="/", query=None)
    url = str(origin).rstrip("/") + recorded.path
    headers = {k: v for k, v in recorded.headers.items() if k not in ("host", "content-length")}
    with httpx.Client(trust_env=False) as client:
        return client.request(
            recorded.method,
            url + ("?" + recorded.query if recorded.query else ""),
            headers=headers,
            content=recorded.body,
        )


def test_a_replayed_purchase_order_is_refused_and_orders_once(
    services: SupplyChainServices, local: tuple[Identity, LocalIdentity]
) -> None:
    executor = Presenting(local[0])
    run = run_scenario(services, MemoryStore(), identity=local[0], executor=executor)
    assert run.status is RunStatus.SUCCEEDED, run.reason
    every = [r for s in services.services.values() for r in s.requests]
    assert every and all(
        r.status != 401 and r.headers.get(CAPABILITY_HEADER.lower()) for r in every
    )
    [order] = services.erp.requests_for("POST", "/purchase-orders")
    answer = _replay(services, "erp", order)
    assert answer.status_code == 401
    assert answer.json()["message"] == "capability token already used (replay refused)"
    assert services.erp.counts["purchase_orders"] == 1
    [stock, *_] = services.erp.requests_for("GET", "/plants")
    assert _replay(services, "erp", stock).status_code == 401  # reads are not replayable either


def test_the_orchestrator_lets_the_executor_renew_the_token(
    services: SupplyChainServices, local: tuple[Identity, LocalIdentity], keys: KeyRing
) -> None:
    executor = Presenting(local[0])
    run_scenario(services, MemoryStore(), identity=local[0], executor=executor)
    ctx, fresh = executor.contexts[0], executor.renewed[0]
    assert ctx.capability_token is not None and ctx.renew_capability is not None
    assert fresh is not None
    first, renewed = (local[0].verifier.claims(t) for t in (ctx.capability_token, fresh))
    assert first["jti"] != renewed["jti"]
    same = ("tenant", "run", "step", "call", "tool", "args_sha256", "decision", "scope")
    assert {k: first[k] for k in same} == {k: renewed[k] for k in same}
    assert jwt.get_unverified_header(fresh)["kid"] == keys.kid
    assert len(executor.renewed) == len(executor.contexts) and all(executor.renewed)
    assert ctx.renew_capability() is None  # the call is done: no more tokens for it
