"""Tenant x role x endpoint, through both cloud adapters: every role stays inside its tenant.

The target is always a run of tenant ``acme`` (started by alice) waiting for an approval. Callers
are tenant tokens of ``acme`` and ``globex`` with each role (including a tenant token that
claims ``platform-operator``, which its issuer cannot grant) and a real platform operator,
whose token comes from the separately configured operator issuer. Each case checks the status
and that a refused request changed nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from core.domain import RunStatus
from paddock.dev.bridges import AwsBridge, AzureBridge, HttpResult
from tests.api.world import World


@dataclass(frozen=True)
class Caller:
    name: str
    tenant: str
    roles: tuple[str, ...] = ()
    operator: bool = False
    """A token of the operator issuer (platform-operator)."""

    def token(self, world: World) -> str:
        if self.operator:
            return world.operator_token(sub="ops")
        return world.token(sub=f"{self.name}-sub", tenant=self.tenant, roles=self.roles)

    @property
    def home(self) -> bool:
        return self.tenant == "acme"


CALLERS = [
    Caller(f"{tenant}-{label}", tenant, roles)
    for tenant in ("acme", "globex")
    for label, roles in (
        ("user", ()),
        ("approver", ("approver",)),
        ("admin", ("admin",)),
        ("admin+approver", ("admin", "approver")),
        ("forged-operator", ("platform-operator", "admin", "approver")),
    )
] + [Caller("operator", "platform", operator=True)]


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str
    body: dict[str, Any] | None = None
    query: dict[str, str] | None = None


ENDPOINTS = [
    Endpoint("read", "GET", "/runs/{run}"),
    Endpoint("list", "GET", "/runs"),
    Endpoint("list-acme", "GET", "/runs", query={"tenant": "acme"}),
    Endpoint("approvals", "GET", "/approvals"),
    Endpoint("approvals-acme", "GET", "/approvals", query={"tenant": "acme"}),
    Endpoint("decide", "POST", "/runs/{run}/approvals/{approval}", {"decision": "approve"}),
    Endpoint("cancel", "POST", "/runs/{run}/cancel", {"reason": "matrix"}),
    Endpoint("kill-own", "POST", "/kill-switch", {"scope": "tenant", "reason": "m"}),
    Endpoint(
        "kill-acme", "POST", "/kill-switch", {"scope": "tenant", "tenant": "acme", "reason": "m"}
    ),
    Endpoint("kill-global", "POST", "/kill-switch", {"scope": "global", "reason": "m"}),
    Endpoint("workflows", "GET", "/workflows"),
    Endpoint("tools", "GET", "/catalog/tools", query={"scenario": "supply-chain"}),
]


def expected(caller: Caller, endpoint: Endpoint) -> int:
    """The status the rules in docs/api.md ("Roles and tenancy") promise."""
    reach = caller.home or caller.operator  # may touch acme's run
    admin = "admin" in caller.roles
    match endpoint.name:
        case "read" | "cancel" | "list-acme" | "approvals-acme":
            return 200 if reach else 403
        case "decide":
            return 200 if caller.home and "approver" in caller.roles else 403
        case "kill-own":
            return 200 if admin or caller.operator else 403
        case "kill-acme":
            return 200 if (admin and caller.home) or caller.operator else 403
        case "kill-global":
            return 200 if caller.operator else 403
    return 200  # list, approvals, workflows, tools: everyone, filtered to what they may see


Send = Callable[[World, str, str, dict[str, str], dict[str, str], bytes], HttpResult]


def _aws(
    world: World, method: str, path: str, q: dict[str, str], h: dict[str, str], b: bytes
) -> HttpResult:
    return AwsBridge(world.api).http(method, path, query=q, headers=h, body=b)


def _azure(
    world: World, method: str, path: str, q: dict[str, str], h: dict[str, str], b: bytes
) -> HttpResult:
    return AzureBridge(world.api).http(method, path, query=q, headers=h, body=b)


ADAPTERS: dict[str, Send] = {"aws": _aws, "azure": _azure}


def _waiting_run(world: World) -> tuple[str, str]:
    run_id = world.start()
    world.drain()
    run = world.store.get_run(run_id)
    assert run.status is RunStatus.AWAITING_APPROVAL
    return run_id, run.pending_approvals[0].id


@pytest.mark.parametrize("adapter", sorted(ADAPTERS))
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
@pytest.mark.parametrize("caller", CALLERS, ids=lambda c: c.name)
def test_roles_stay_in_their_tenant(
    world: World, caller: Caller, endpoint: Endpoint, adapter: str
) -> None:
    run_id, approval_id = _waiting_run(world)
    path = endpoint.path.replace("{run}", run_id).replace("{approval}", approval_id)
    headers = {"Authorization": f"Bearer {caller.token(world)}"}
    body = b""
    if endpoint.body is not None:
        body = json.dumps(endpoint.body).encode()
        headers["Content-Type"] = "application/json"
    result = ADAPTERS[adapter](world, endpoint.method, path, endpoint.query or {}, headers, body)
    want = expected(caller, endpoint)
    assert result.status == want, result.body[:300]
    data = json.loads(result.body)
    run = world.store.get_run(run_id)
    if want == 403:
        assert data["error"]["code"] == "forbidden"
        assert run.status is RunStatus.AWAITING_APPROVAL and run.pending_approvals
        assert world.store.kill_reason(tenant="acme", run_id=run_id) is None
        return
    if endpoint.name in ("list", "approvals"):
        items = data["runs" if endpoint.name == "list" else "approvals"]
        seen = {i.get("run_id") or i.get("id") for i in items}
        assert (run_id in seen) is (caller.home or caller.operator)
    if endpoint.name == "kill-own" and not caller.home and not caller.operator:
        assert world.store.kill_reason(tenant="acme", run_id=run_id) is None
