"""The same requests through the Lambda handler and the Azure function app: identical answers.

Both adapters share one core handler (one store), so a request's answer depends only on what
the adapter made of it. Lambda gets the real API Gateway HTTP API sample event with the
request's fields replaced; Azure gets ``func.HttpRequest`` routed as the Functions host does.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from functions.aws.http_handler import make_handler
from paddock.dev.bridges import AzureBridge, HttpResult, lambda_result
from paddock.dev.events import LambdaContext
from tests.api.world import World
from tests.functions.conftest import http_event


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    token: str | None = "alice"
    body: Any = None
    raw: bytes | None = None
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 200


CATALOG = "{url}/openapi.json"
CALLS = [
    Call("GET", "/healthz", token=None),
    Call("GET", "/openapi.json", token=None),
    Call("GET", "/runs"),
    Call("GET", "/runs", query={"status": "pending", "limit": "5"}),
    Call("GET", "/runs", query={"status": "bogus"}, status=422),
    Call("GET", "/runs/{run}"),
    Call("GET", "/runs/run_missing", status=404),
    Call("GET", "/approvals"),
    Call("GET", "/catalog/tools", query={"scenario": "supply-chain"}),
    Call(
        "POST",
        "/runs",
        body={"goal": "g", "catalog": [CATALOG]},
        headers={"Idempotency-Key": "parity-1"},
        status=202,
    ),
    Call("POST", "/runs", raw=b'{"goal": ', status=400),
    Call("POST", "/runs", body={"scenario": "supply-chain", "colour": "red"}, status=422),
    Call("POST", "/runs", raw=b'{"goal": "' + b"x" * 300_000 + b'"}', status=413),
    Call("POST", "/runs", raw=b"goal=x", headers={"Content-Type": "text/plain"}, status=415),
    Call("POST", "/runs/{run}/cancel", token=None, status=401),
    Call("POST", "/kill-switch", body={"scope": "global", "reason": "x"}, status=403),
    Call("GET", "/runs", token="expired", status=401),
    Call("DELETE", "/runs", status=405),
    Call("GET", "/nowhere/at/all", status=404),
]


def _headers(world: World, call: Call, index: int) -> tuple[dict[str, str], bytes]:
    headers = {"X-Correlation-Id": f"parity-{index}", **call.headers}
    if call.token == "expired":
        headers["Authorization"] = "Bearer " + world.token(expires_in=-300)
    elif call.token is not None:
        headers["Authorization"] = "Bearer " + world.token(sub=call.token)
    body = (
        call.raw
        if call.raw is not None
        else (json.dumps(call.body).encode() if call.body is not None else b"")
    )
    if body and "Content-Type" not in headers:
        headers["Content-Type"] = "application/json"
    return headers, body


def _lambda(
    world: World,
) -> Callable[[str, str, dict[str, str], dict[str, str], bytes], HttpResult]:
    handler = make_handler(world.api)

    def send(
        method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> HttpResult:
        event = http_event(method, path, query=query, headers=headers, body=body)
        return lambda_result(handler(event, LambdaContext()))

    return send


@pytest.mark.parametrize("call", CALLS, ids=lambda c: f"{c.method} {c.path} {c.status}")
def test_both_adapters_answer_identically(world: World, call: Call) -> None:
    run_id = world.start(goal="parity run")
    path = call.path.replace("{run}", run_id)
    body = call.body
    if body is not None and "catalog" in body:
        body = {**body, "catalog": [c.replace("{url}", world.url) for c in body["catalog"]]}
    call = Call(
        call.method, path, call.token, body, call.raw, call.query, call.headers, call.status
    )
    headers, data = _headers(world, call, 7)
    via_aws = _lambda(world)(call.method, path, call.query, headers, data)
    via_azure = AzureBridge(world.api).http(
        call.method, path, query=call.query, headers=headers, body=data
    )
    assert via_aws.status == call.status, via_aws.body[:300]
    assert via_azure.status == via_aws.status
    assert via_azure.body == via_aws.body
    assert via_azure.headers.get("content-type") == via_aws.headers.get("content-type")
    assert (
        via_aws.headers["x-correlation-id"] == via_azure.headers["x-correlation-id"] == "parity-7"
    )
    if call.method == "POST" and call.status == 202:  # the retry made no second run
        assert len([r for r in world.store.list_runs().runs if r.goal == "g"]) == 1


@pytest.mark.parametrize("adapter", ["aws", "azure"])
def test_each_adapter_drives_a_run_to_its_approval(world: World, adapter: str) -> None:
    send = (
        _lambda(world)
        if adapter == "aws"
        else (lambda m, p, q, h, b: AzureBridge(world.api).http(m, p, query=q, headers=h, body=b))
    )
    auth = {"Authorization": "Bearer " + world.token(), "Content-Type": "application/json"}
    started = send(
        "POST",
        "/runs",
        {},
        auth,
        json.dumps({"goal": "order 5 of A-1", "catalog": [f"{world.url}/openapi.json"]}).encode(),
    )
    assert started.status == 202
    run_id = json.loads(started.body)["run_id"]
    world.drain()
    view = json.loads(send("GET", f"/runs/{run_id}", {}, auth, b"").body)
    assert view["status"] == "awaiting_approval"
    approval = view["pending_approvals"][0]["id"]
    approver = {**auth, "Authorization": "Bearer " + world.token("bob", roles=["approver"])}
    decided = send(
        "POST", f"/runs/{run_id}/approvals/{approval}", {}, approver, b'{"decision": "approve"}'
    )
    assert decided.status == 200
    world.drain()
    assert json.loads(send("GET", f"/runs/{run_id}", {}, auth, b"").body)["status"] == "succeeded"
    assert len(world.service.orders) == 1
