"""Delegation end to end in one process: the Logistics Planning agent delegates to Carrier
Relations and Contracts as child runs, through the queues, against the real local services."""

from __future__ import annotations

from core.domain import Budget, CallStatus, Plan, RunStatus, Usage
from core.mesh import pending_approvals, walk
from examples.shipment_delay import data
from tests.mesh.world import MeshWorld, Scripted, approve_all, call
from tests.telemetry.support import Recorder


def test_the_orchestrator_delegates_and_ends_with_an_approved_request_citing_the_clause(
    world: MeshWorld,
) -> None:
    local = world.local()
    root = local.start(world.root())
    seen: list[tuple[str, str]] = []
    final = local.run_until_settled(root.id, decide=approve_all(seen))

    assert final.status is RunStatus.SUCCEEDED, final.reason
    requests = world.services.tms.reroute_requests
    assert len(requests) == 1
    request = requests[0]
    assert (request["carrier_id"], request["destination"]) == (data.CHOSEN_CARRIER, "DE01")
    assert (request["contract_id"], request["clause"]) == (data.CONTRACT, data.CLAUSE_REROUTE)
    assert (
        request["quote_id"] == world.services.carriers.find_quote(request["quote_id"])["quote_id"]
    )
    assert f"clause {data.CLAUSE_REROUTE}" in (final.result or "")
    assert seen == [(root.id, "create_reroute_request")]  # the one approval, on the parent

    # Children: one per delegation, each acting as its agent, in its home cloud's queue.
    agents = [(c.id.startswith(root.id), c.cloud, c.status) for c in final.children]
    assert agents == [
        (True, "aws", RunStatus.SUCCEEDED),
        (True, "azure", RunStatus.SUCCEEDED),
        (True, "aws", RunStatus.SUCCEEDED),
    ]
    tree = list(walk(world.store, root.id))
    assert [(n.depth, n.run.agent) for n in tree] == [
        (0, "logistics_planning"),
        (1, "carrier_relations"),
        (1, "contracts"),
        (1, "carrier_relations"),
    ]
    parent_grant = set(final.grant.tools or [])
    for node in tree[1:]:
        child = node.run
        assert child.parent_id == root.id
        assert set(child.grant.tools or []) <= parent_grant
        assert set(child.grant.side_effects) == {"read"}
        assert child.grant.max_children == 0

    # Provenance: the Contracts answer is untrusted (clause text), Carrier Relations' is not.
    asks = {c.tool: c for s in final.steps for c in s.calls if c.tool.startswith("ask_")}
    assert asks["ask_contracts"].untrusted is True
    assert asks["ask_carrier_relations"].untrusted is False
    # The children's tool calls count against the parent's.
    assert final.tool_calls == sum(n.run.tool_calls for n in tree[1:]) + 1


def test_parent_and_children_are_one_trace(world: MeshWorld) -> None:
    recorder = Recorder()
    world.tracing = recorder.tracer()
    local = world.local()
    root = local.start(world.root())
    final = local.run_until_settled(root.id, decide=approve_all([]))
    assert final.status is RunStatus.SUCCEEDED
    spans = recorder.spans()
    assert {s["trace_id"] for s in spans} == {final.traceparent.split("-")[1]}
    runs = {s["attributes"].get("paddock.run.id") for s in spans}
    assert {root.id, *(c.id for c in final.children)} <= runs
    children = {c.id for c in final.children}
    tops = [
        s
        for s in spans
        if s["attributes"].get("paddock.run.id") in children and s["parent_id"] is not None
    ]
    assert tops, "child runs' spans hang under the parent's trace"


def test_an_agent_sees_only_its_own_tools(world: MeshWorld) -> None:
    contracts = Scripted([])
    world.scripted["contracts"] = contracts
    world.scripted["logistics_planning"] = Scripted(
        [Plan(calls=[call("ask_contracts", {"goal": "what does CT-1001 say about delays?"})])]
    )
    local = world.local()
    root = local.start(world.root())
    local.run_until_settled(root.id)
    parent_view = {t.name for t in world.scripted["logistics_planning"].seen[0].tools}
    assert parent_view == {"create_reroute_request", "ask_carrier_relations", "ask_contracts"}
    assert {t.name for t in contracts.seen[0].tools} == {
        "list_contracts",
        "search_contract_clauses",
    }


def test_a_child_calling_a_tool_outside_its_grant_is_denied(world: MeshWorld) -> None:
    body = {
        "shipment_id": "SH-4471",
        "carrier_id": "CA-220",
        "quote_id": "Q-700001",
        "destination": "DE01",
        "cost_eur": 100,
        "contract_id": "CT-1001",
        "clause": "6.3",
        "justification": "the contracts agent tries to book on its own",
    }
    world.scripted["contracts"] = Scripted(
        [
            Plan(
                calls=[
                    call("create_reroute_request", {"body": body}),
                    call("get_shipment_status", {"shipment_id": "SH-4471"}, 1),
                    call("ask_carrier_relations", {"goal": "quote for me"}, 2),
                ]
            ),
            Plan(final_answer="tried"),
        ]
    )
    world.scripted["logistics_planning"] = Scripted(
        [Plan(calls=[call("ask_contracts", {"goal": "find the re-routing clause"})])]
    )
    local = world.local()
    root = local.start(world.root())
    final = local.run_until_settled(root.id)

    child = world.store.get_run(final.children[0].id)
    calls = child.steps[0].calls
    assert [c.status for c in calls] == [CallStatus.DENIED] * 3
    for record in calls:
        assert record.decision is not None and "entitlement" in record.decision.rule_ids
    assert world.services.tms.reroute_requests == []
    assert world.services.tracking.requests == []
    assert child.children == []


def test_a_child_that_would_exceed_the_parents_budget_is_stopped(world: MeshWorld) -> None:
    searches = [
        Plan(
            calls=[call("search_contract_clauses", {"query": f"penalty clause {n}"}, n)],
            usage=Usage(prompt_tokens=10),
        )
        for n in range(8)
    ]
    world.scripted["contracts"] = Scripted(list(searches))
    world.scripted["logistics_planning"] = Scripted(
        [
            Plan(calls=[call("ask_contracts", {"goal": "read every penalty clause"})]),
            Plan(final_answer="gave up"),
        ]
    )
    local = world.local()
    # The Contracts profile allows 6 tool calls; the parent has only 3 in all.
    root = local.start(world.root(budget=Budget(max_steps=10, max_tool_calls=3)))
    final = local.run_until_settled(root.id)

    child = world.store.get_run(final.children[0].id)
    assert child.budget.max_tool_calls == 3
    assert child.status is RunStatus.FAILED
    assert "max_tool_calls=3" in (child.reason or "")
    assert child.tool_calls == 3
    searched = world.services.contracts.requests_for("GET", "/contracts/search")
    assert len(searched) == 3
    # The child's spend counts against the parent's ceiling, and never goes past it.
    assert final.tool_calls == 3
    assert final.usage.prompt_tokens == child.usage.prompt_tokens > 0
    ask = final.steps[0].calls[0]
    assert ask.status is CallStatus.ERROR and "did not succeed" in (ask.error or "")


def test_the_injected_contract_passage_cannot_steer_the_rerouting_target(world: MeshWorld) -> None:
    local = world.local()
    root = local.start(world.root())
    seen: list[tuple[str, str]] = []
    # Even an approver who approves everything never sees the steered request.
    final = local.run_until_settled(root.id, decide=approve_all(seen))

    steered = [
        c
        for s in final.steps
        for c in s.calls
        if c.tool == "create_reroute_request"
        and c.args["body"]["carrier_id"] == data.INJECTED_CARRIER
    ]
    assert len(steered) == 1, "the rule script plays the steered model once"
    assert steered[0].status is CallStatus.DENIED
    assert steered[0].decision is not None
    assert {"carrier_not_approved", "reroute_destination"} <= set(steered[0].decision.rule_ids)
    targets = {(r["carrier_id"], r["destination"]) for r in world.services.tms.reroute_requests}
    assert targets == {(data.CHOSEN_CARRIER, "DE01")}
    assert data.INJECTED_CARRIER not in str(world.services.tms.reroute_requests)
    assert len(seen) == 1


def test_approvals_inside_a_child_surface_on_the_parent_and_kill_stops_children(
    world: MeshWorld,
) -> None:
    # A Carrier Relations child that (scripted) proposes a call needing approval: an
    # ask for human help is an approval the child raises.
    world.scripted["carrier_relations"] = Scripted(
        [
            Plan(help_request="Which pallets count: the 18 on the trailer or the 20 ordered?"),
            Plan(final_answer="18 pallets"),
        ]
    )
    world.scripted["logistics_planning"] = Scripted(
        [
            Plan(calls=[call("ask_carrier_relations", {"goal": "how many pallets?"})]),
            lambda ctx: Plan(final_answer=str(ctx.steps[-1].calls[0].result)),
        ]
    )
    local = world.local()
    root = local.start(world.root())
    paused = local.run_until_settled(root.id)  # nobody decides: the tree waits

    assert paused.status is RunStatus.WAITING
    surfaced = pending_approvals(world.store, root.id)
    assert len(surfaced) == 1
    holder, approval = surfaced[0]
    assert holder.parent_id == root.id and holder.agent == "carrier_relations"
    assert approval.id in (paused.reason or "") and holder.id in (paused.reason or "")
    assert paused.children[0].status is RunStatus.AWAITING_APPROVAL

    seen: list[tuple[str, str]] = []
    final = local.run_until_settled(root.id, decide=approve_all(seen))
    assert seen == [(holder.id, "request_human_help")]
    assert final.status is RunStatus.SUCCEEDED
    assert "18 pallets" in (final.result or "")


def test_killing_the_parent_stops_a_waiting_child(world: MeshWorld) -> None:
    world.scripted["carrier_relations"] = Scripted([Plan(help_request="need a human")])
    world.scripted["logistics_planning"] = Scripted(
        [Plan(calls=[call("ask_carrier_relations", {"goal": "status of SH-4471"})])]
    )
    local = world.local()
    root = local.start(world.root())
    local.run_until_settled(root.id)
    child_id = world.store.get_run(root.id).children[0].id
    assert world.store.get_run(child_id).status is RunStatus.AWAITING_APPROVAL

    killed = local.root.kill(root.id, reason="operator stop")
    assert killed.status is RunStatus.KILLED
    child = world.store.get_run(child_id)
    assert child.status is RunStatus.KILLED
    assert pending_approvals(world.store, root.id) == []


def test_a_parent_cannot_call_its_delegates_tools_itself(world: MeshWorld) -> None:
    # The parent's grant covers its delegates' tools (so it can hand them down); an injected
    # planner must still not use them directly, around the delegation and its narrowing.
    world.scripted["logistics_planning"] = Scripted(
        [
            Plan(
                calls=[
                    call("get_shipment_status", {"shipment_id": "SH-4471"}),
                    call("search_contract_clauses", {"query": "reroute"}, 1),
                ]
            ),
            Plan(final_answer="tried"),
        ]
    )
    local = world.local()
    root = local.start(world.root())
    final = local.run_until_settled(root.id)

    calls = final.steps[0].calls
    assert [c.status for c in calls] == [CallStatus.DENIED] * 2
    for record in calls:
        assert record.decision is not None and "entitlement" in record.decision.rule_ids
    assert world.services.tracking.requests == []
    assert final.children == []
