"""Approvals inbox, decisions bound to the exact call, and the kill switch."""

from __future__ import annotations

from typing import Any

from core.domain import RunStatus
from core.queue.base import EnvelopeKind
from tests.api.world import World


def _paused(world: World) -> tuple[str, dict[str, Any]]:
    run_id = world.start()
    world.drain()
    approvals = world.request("GET", "/approvals").json()["approvals"]
    [pending] = [a for a in approvals if a["run_id"] == run_id]
    return run_id, pending


def _bob(world: World) -> str:
    return world.token(sub="bob", roles=["approver"])


def test_inbox_lists_the_exact_call_with_reasons_and_context(world: World) -> None:
    _, pending = _paused(world)
    assert pending["tool"] == "create_order"
    assert pending["args"] == {"body": {"item": "A-1", "quantity": 5}}
    assert pending["goal"] == "order 5 of A-1" and pending["tenant"] == "acme"
    assert pending["reasons"] == ["writes need a human"]
    assert pending["reasoning"] == "order it" and pending["confidence"] == 0.6
    assert pending["status"] == "pending" and pending["requested_by"] == "alice"
    globex = world.request("GET", "/approvals", token=world.token(tenant="globex"))
    assert globex.json()["approvals"] == []


def test_approve_enqueues_the_run_and_it_finishes_with_one_order(world: World) -> None:
    run_id, pending = _paused(world)
    response = world.request(
        "POST",
        f"/runs/{run_id}/approvals/{pending['id']}",
        body={"decision": "approve", "comment": "fine", "args_hash": pending["args_hash"]},
        token=_bob(world),
    )
    assert response.status == 200
    assert response.json()["status"] == "running"
    decided = response.json()["approvals"][0]
    assert (decided["status"], decided["decided_by"], decided["comment"]) == (
        "approved",
        "bob",
        "fine",
    )
    [message] = world.queue.receive(10)
    assert message.envelope.kind is EnvelopeKind.RESUME
    world.queue.release(message)
    outcomes = world.drain()
    assert outcomes[-1].outcome.value == "finished"
    run = world.store.get_run(run_id)
    assert run.status is RunStatus.SUCCEEDED and run.result == "ordered 5 of A-1"
    assert len(world.service.orders) == 1
    assert world.request("GET", "/approvals").json()["approvals"] == []


def test_reject_keeps_the_write_from_happening(world: World) -> None:
    run_id, pending = _paused(world)
    response = world.request(
        "POST",
        f"/runs/{run_id}/approvals/{pending['id']}",
        body={"decision": "reject", "comment": "too many"},
        token=_bob(world),
    )
    assert response.status == 200
    call = response.json()["steps"][1]["calls"][0]
    assert (call["status"], call["error"]) == ("rejected", "too many")
    world.drain()
    assert world.service.orders == {}


def test_a_decision_is_single_use_and_bound_to_what_the_approver_saw(world: World) -> None:
    run_id, pending = _paused(world)
    path = f"/runs/{run_id}/approvals/{pending['id']}"
    stale = world.request(
        "POST", path, token=_bob(world), body={"decision": "approve", "args_hash": "0" * 64}
    )
    assert stale.status == 409 and stale.json()["error"]["code"] == "approval_conflict"
    assert (
        world.request("POST", path, token=_bob(world), body={"decision": "approve"}).status == 200
    )
    replay = world.request("POST", path, token=_bob(world), body={"decision": "reject"})
    assert replay.status == 409 and "single-use" in replay.json()["error"]["message"]


def test_kill_switch_stops_a_tenants_runs_and_can_be_lowered(world: World) -> None:
    admin = world.token(sub="root", roles=["admin"])
    run_id = world.start()
    raised = world.request(
        "POST", "/kill-switch", token=admin, body={"scope": "tenant", "reason": "incident 42"}
    )
    assert raised.status == 200
    assert raised.json() == {"scope": "tenant:acme", "active": True, "reason": "incident 42"}
    world.drain()
    run = world.store.get_run(run_id)
    assert run.status is RunStatus.KILLED and "incident 42" in (run.reason or "")
    lowered = world.request(
        "POST",
        "/kill-switch",
        token=admin,
        body={"scope": "tenant", "reason": "resolved", "active": False},
    )
    assert lowered.json()["active"] is False
    assert world.store.kill_reason(tenant="acme", run_id="any") is None
    bad = world.request(
        "POST",
        "/kill-switch",
        token=admin,
        body={"scope": "global", "tenant": "acme", "reason": "x"},
    )
    assert bad.status == 422


def test_the_requester_cannot_approve_a_call_the_workflow_keeps_for_four_eyes(
    world: World,
) -> None:
    from core.guardrails.separation import RunFourEyes
    from core.workflows import FourEyes

    orders = RunFourEyes(FourEyes(tools=frozenset({"create_order"})))
    world.deps.orchestrator.four_eyes = lambda _run: orders
    run_id, pending = _paused(world)
    path = f"/runs/{run_id}/approvals/{pending['id']}"
    alice = world.token(sub="alice", roles=["approver"])  # alice started the run
    own = world.request("POST", path, body={"decision": "approve"}, token=alice)
    assert own.status == 409
    assert "may not approve its own create_order" in own.json()["error"]["message"]
    assert world.store.get_run(run_id).pending_approvals
    assert (
        world.request("POST", path, body={"decision": "approve"}, token=_bob(world)).status == 200
    )


def test_by_default_the_requester_may_approve_a_write(world: World) -> None:
    run_id, pending = _paused(world)
    alice = world.token(sub="alice", roles=["approver"])
    path = f"/runs/{run_id}/approvals/{pending['id']}"
    assert world.request("POST", path, body={"decision": "approve"}, token=alice).status == 200
