"""Starting, reading, listing and cancelling runs through the core handler."""

from __future__ import annotations

import hashlib
import json

from core.api.service import IDEMPOTENCY_TTL_SECONDS
from core.domain import RunStatus
from core.queue.base import EnvelopeKind
from tests.api.world import TENANT, World


def test_start_returns_202_and_enqueues_one_envelope(world: World) -> None:
    response = world.request(
        "POST",
        "/runs",
        body={
            "goal": "order 5 of A-1",
            "catalog": [f"{world.url}/openapi.json"],
            "budget": {"max_steps": 7, "max_cost_usd": 1.5},
            "inputs": {"plant": "DE01"},
        },
    )
    assert response.status == 202
    body = response.json()
    assert body["status"] == "pending" and body["tenant"] == TENANT
    assert response.headers["location"] == f"/runs/{body['run_id']}"
    messages = world.queue.receive(max_messages=10)
    assert [
        (m.envelope.run_id, m.envelope.expected_version, m.envelope.target, m.envelope.kind)
        for m in messages
    ] == [(body["run_id"], 1, "local", EnvelopeKind.ADVANCE)]
    run = world.store.get_run(body["run_id"])
    assert run.requested_by == "alice" and run.inputs == {"plant": "DE01"}
    assert run.budget.max_steps == 7 and run.budget.max_cost_usd == 1.5
    assert run.budget.max_repeats == 3  # not exposed: server default kept


def test_tenant_comes_from_the_token_never_from_the_body(world: World) -> None:
    response = world.request(
        "POST",
        "/runs",
        token=world.token(tenant="globex"),
        body={"goal": "g", "catalog": [f"{world.url}/openapi.json"]},
    )
    assert world.store.get_run(response.json()["run_id"]).tenant == "globex"
    refused = world.request(
        "POST",
        "/runs",
        body={"goal": "g", "catalog": [f"{world.url}/openapi.json"], "tenant": "acme"},
    )
    assert refused.status == 422
    assert refused.json()["error"]["details"][0]["loc"] == ["body", "tenant"]


def test_scenario_run_gets_its_specs_grant_and_configured_base_urls(world: World) -> None:
    world.deps.workflows = world.deps.workflows.with_base_urls(
        "supply-chain", {"ERP": "http://127.0.0.1:9/erp"}
    )
    response = world.request("POST", "/runs", body={"scenario": "supply-chain", "llm": "rules"})
    run = world.store.get_run(response.json()["run_id"])
    assert run.scenario == "supply-chain" and run.planner == "rules"
    assert run.goal and all(p.endswith((".yaml", ".json")) for p in run.catalog)
    assert run.base_urls == {"ERP": "http://127.0.0.1:9/erp"}
    assert "destructive" not in run.grant.side_effects


def test_idempotency_key_returns_the_same_run_and_enqueues_no_second_run(world: World) -> None:
    body = {"goal": "order 5 of A-1", "catalog": [f"{world.url}/openapi.json"]}
    first = world.request("POST", "/runs", body=body, headers={"Idempotency-Key": "k-1"})
    again = world.request("POST", "/runs", body=body, headers={"Idempotency-Key": "k-1"})
    assert first.status == again.status == 202
    assert first.json() == again.json()
    assert again.headers.get("idempotency-replayed") == "true"
    assert "idempotency-replayed" not in first.headers
    assert len(world.store.list_runs().runs) == 1
    world.drain()  # the duplicate envelope is dropped by its version
    run = world.store.get_run(first.json()["run_id"])
    assert run.status is RunStatus.AWAITING_APPROVAL and len(run.steps) == 2


def test_same_key_other_body_is_refused_and_keys_are_per_tenant(world: World) -> None:
    catalog = [f"{world.url}/openapi.json"]
    world.request(
        "POST", "/runs", body={"goal": "a", "catalog": catalog}, headers={"Idempotency-Key": "k"}
    )
    other = world.request(
        "POST", "/runs", body={"goal": "b", "catalog": catalog}, headers={"Idempotency-Key": "k"}
    )
    assert other.status == 422 and other.json()["error"]["code"] == "idempotency_key_reused"
    globex = world.request(
        "POST",
        "/runs",
        token=world.token(tenant="globex"),
        body={"goal": "a", "catalog": catalog},
        headers={"Idempotency-Key": "k"},
    )
    assert globex.status == 202
    assert len(world.store.list_runs().runs) == 2


def test_retry_after_a_crash_between_claim_and_create_creates_the_claimed_run(world: World) -> None:
    # The first attempt claimed the key, then died before storing the run.
    from core.api.models import StartRunRequest
    from core.api.service import _fingerprint

    body = {"goal": "g", "catalog": [f"{world.url}/openapi.json"]}
    slot = "api-start:" + hashlib.sha256(f"{TENANT}\0crash".encode()).hexdigest()[:40]
    fingerprint = _fingerprint(TENANT, StartRunRequest.model_validate(body))
    world.store.put_idempotency(
        slot,
        json.dumps({"run_id": "run_claimed0001", "fingerprint": fingerprint}),
        ttl_seconds=IDEMPOTENCY_TTL_SECONDS,
    )
    retry = world.request("POST", "/runs", body=body, headers={"Idempotency-Key": "crash"})
    assert retry.status == 202 and retry.json()["run_id"] == "run_claimed0001"
    assert world.store.get_run("run_claimed0001").goal == "g"
    assert [m.envelope.run_id for m in world.queue.receive(10)] == ["run_claimed0001"]


def test_get_run_shows_steps_calls_decisions_and_pending_approval(world: World) -> None:
    run_id = world.start()
    world.drain()
    view = world.request("GET", f"/runs/{run_id}").json()
    assert view["status"] == "awaiting_approval"
    assert [s["reasoning"] for s in view["steps"]] == ["check stock", "order it"]
    first = view["steps"][0]["calls"][0]
    assert first["tool"] == "get_item" and first["decision"]["verdict"] == "allow"
    assert first["status_code"] == 200 and first["result"] == {"item": "A-1", "stock": 0}
    [pending] = view["pending_approvals"]
    assert pending["tool"] == "create_order"
    assert pending["args"] == {"body": {"item": "A-1", "quantity": 5}}
    assert pending["reasons"] == ["writes need a human"]
    assert view["usage"] == {"prompt_tokens": 0, "completion_tokens": 0, "cost_usd": 0.0}


def test_list_runs_filters_by_status_and_pages_with_a_cursor(world: World) -> None:
    ids = [world.start(goal=f"goal {i}") for i in range(3)]
    world.request("POST", f"/runs/{ids[0]}/cancel", body={"reason": "not needed"})
    page1 = world.request("GET", "/runs", query={"limit": "2"}).json()
    assert len(page1["runs"]) == 2 and page1["next_cursor"]
    page2 = world.request(
        "GET", "/runs", query={"limit": "2", "cursor": page1["next_cursor"]}
    ).json()
    seen = [r["run_id"] for r in page1["runs"] + page2["runs"]]
    assert sorted(seen) == sorted(ids) and page2["next_cursor"] is None
    killed = world.request("GET", "/runs", query={"status": "killed"}).json()["runs"]
    assert [r["run_id"] for r in killed] == [ids[0]]


def test_cancel_stops_the_run_and_a_second_cancel_conflicts(world: World) -> None:
    run_id = world.start()
    response = world.request("POST", f"/runs/{run_id}/cancel")  # the body is optional
    assert response.status == 200
    assert response.json()["status"] == "killed"
    assert "cancelled by alice" in response.json()["reason"]
    assert world.drain()[0].outcome.value == "stale"  # the start envelope finds it finished
    again = world.request("POST", f"/runs/{run_id}/cancel")
    assert again.status == 409 and again.json()["error"]["code"] == "run_finished"


def test_health_and_tools(world: World) -> None:
    health = world.request("GET", "/healthz", token=None)
    assert health.status == 200 and health.json()["status"] == "ok"
    tools = world.request("GET", "/catalog/tools", query={"scenario": "supply-chain"})
    assert tools.status == 200
    names = {t["name"] for t in tools.json()["tools"]}
    assert {"get_stock", "create_purchase_order"} <= names
    unknown = world.request("GET", "/catalog/tools", query={"scenario": "nope"})
    assert unknown.status == 404
