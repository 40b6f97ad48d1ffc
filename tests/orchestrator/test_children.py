"""Child runs: fan-out through the queue, waiting without a worker, aggregation, failures,
duplicates, concurrency caps, narrowing, and killing the parent."""

from __future__ import annotations

import json
from datetime import timedelta

from core.api.worker import Outcome, process_envelope
from core.domain import (
    Budget,
    CallStatus,
    EngineBinding,
    Grant,
    Plan,
    ProposedCall,
    Run,
    RunStatus,
    Tool,
    Usage,
    utcnow,
)
from core.guardrails import PolicyGuard
from core.orchestrator._narrowing import narrow_budget, narrow_grant
from core.orchestrator.children import SPAWN_TOOL, ChildSpec
from core.planner.base import PlanContext
from core.queue.base import Envelope, EnvelopeKind
from paddock.testing.planner import ScriptedPlanner
from tests.orchestrator.fanout import FanPlanner, World


def test_fan_out_aggregates_every_child_and_reports_the_failed_one() -> None:
    world = World()
    world.start(5, failing=(3,))
    world.drain()
    parent = world.store.get_run("run_parent")
    assert parent.status is RunStatus.SUCCEEDED
    result = json.loads(parent.result or "")
    assert (result["succeeded"], result["failed"]) == (4, 1)
    by_goal = {c["goal"]: c for c in result["children"]}
    assert by_goal["assess supplier 3"]["status"] == "failed"
    assert "cannot do this" in by_goal["assess supplier 3"]["error"]
    assert by_goal["assess supplier 0"]["result"] == "child 0 ok"
    # The children's spend counts against the parent.
    assert parent.usage.prompt_tokens == 100 + 4 * 10
    assert parent.steps[0].calls[0].status is CallStatus.DONE
    assert parent.steps[0].calls[0].error == "1 of 5 child runs did not succeed"
    for child in parent.children:
        stored = world.store.get_run(child.id)
        assert stored.parent_id == "run_parent" and stored.status.finished


def test_parent_waits_without_a_worker_and_is_woken_by_its_children() -> None:
    world = World()
    world.start(3)
    world.step()  # the parent spawns and lets go
    assert world.outcomes[-1].outcome is Outcome.WAITING
    parent = world.store.get_run("run_parent")
    assert parent.status is RunStatus.WAITING
    assert world.planner.plans["run_parent"] == 1
    world.step()  # the children run; each tells the parent
    kinds = [e.kind for e in world.step()]  # child_done x3: the last wakes and finishes it
    assert kinds == [EnvelopeKind.CHILD_DONE] * 3
    assert world.store.get_run("run_parent").status is RunStatus.SUCCEEDED
    assert world.planner.plans["run_parent"] == 2


def test_every_message_delivered_twice_changes_nothing() -> None:
    world = World()
    world.start(4, failing=(1,))
    for _ in range(50):
        got = world.queue.receive(max_messages=1000)
        if not got:
            break
        for message in got:
            world.queue.send(message.envelope)  # the queue delivers it again later
            process_envelope(message.envelope, world.orch, {"local": world.queue})
            world.queue.ack(message)
    world.drain()
    parent = world.store.get_run("run_parent")
    assert parent.status is RunStatus.SUCCEEDED
    result = json.loads(parent.result or "")
    assert len(result["children"]) == 4 and result["failed"] == 1
    assert world.planner.plans["run_parent"] == 2  # woken once, planned once more
    assert all(world.planner.plans[c.id] == 1 for c in parent.children)
    assert parent.usage.prompt_tokens == 100 + 3 * 10  # each child's spend counted once


def test_concurrency_cap_per_parent_launches_children_in_waves() -> None:
    world = World()
    world.start(5, running=2)
    world.step()
    parent = world.store.get_run("run_parent")
    assert len(parent.children) == 5
    assert [c.launched for c in parent.children] == [True, True, False, False, False]
    peak = 0
    for _ in range(100):
        parent = world.store.get_run("run_parent")
        in_flight = [
            c
            for c in parent.children
            if world.store.get_run(c.id, with_steps=False).status
            in (RunStatus.RUNNING, RunStatus.PENDING)
            and c.launched
        ]
        peak = max(peak, len(in_flight))
        if not world.step():
            break
    assert peak <= 2
    assert world.store.get_run("run_parent").status is RunStatus.SUCCEEDED


def test_killing_the_parent_kills_its_children() -> None:
    world = World()
    world.start(3)
    world.step()
    world.orch.kill("run_parent", reason="operator")
    for ref in world.store.get_run("run_parent").children:
        child = world.store.get_run(ref.id)
        assert child.status is RunStatus.KILLED
        assert "parent run_parent stopped" in (child.reason or "")
    world.drain()  # the children's messages find them killed
    assert all(
        world.planner.plans.get(c.id) is None for c in world.store.get_run("run_parent").children
    )


def test_a_child_whose_parent_already_stopped_is_killed_when_it_comes_up() -> None:
    world = World()
    world.start(2)
    world.step()
    parent = world.store.get_run("run_parent")
    # The parent is marked killed without reaching its children (a kill racing the spawn).
    world.orch._kill_one("run_parent", "operator")
    world.drain()
    for ref in parent.children:
        child = world.store.get_run(ref.id)
        assert child.status is RunStatus.KILLED
        assert "parent run_parent is killed" in (child.reason or "")
        assert world.planner.plans.get(ref.id) is None


def test_more_children_than_allowed_fail_the_call_and_spawn_nothing() -> None:
    world = World()
    world.start(4, max_children=3)
    world.drain()
    parent = world.store.get_run("run_parent")
    assert parent.children == []
    call = parent.steps[0].calls[0]
    assert call.status is CallStatus.ERROR
    assert "allowance of 3" in (call.error or "")


def test_bad_spawn_arguments_fail_the_call() -> None:
    world = World()
    run = world.orch.create(
        Run(id="run_bad", goal="x", inputs={"tasks": []}, grant=Grant(max_children=5))
    )
    world.orch.advance(run.id, max_steps=1)
    call = world.store.get_run("run_bad").steps[0].calls[0]
    assert call.status is CallStatus.ERROR
    assert call.error is not None and "tasks" in call.error


def test_runs_without_an_allowance_do_not_see_the_spawn_tool() -> None:
    world = World()
    allowed = Run(id="a", goal="g", grant=Grant(max_children=2))
    plain = Run(id="b", goal="g")
    assert SPAWN_TOOL in [t.name for t in world.orch.catalogs(allowed).tools]
    assert SPAWN_TOOL not in [t.name for t in world.orch.catalogs(plain).tools]


def test_the_default_policy_allows_spawning() -> None:
    world = World(guard=PolicyGuard())
    world.start(2)
    world.drain()
    assert world.store.get_run("run_parent").status is RunStatus.SUCCEEDED


def test_a_lost_child_done_is_sent_again_when_the_child_message_returns() -> None:
    world = World()
    world.start(1)
    world.step()
    world.step()  # the child finishes and sends child_done
    lost = world.queue.receive(max_messages=10)
    assert [m.envelope.kind for m in lost] == [EnvelopeKind.CHILD_DONE]
    world.queue.ack(lost[0])  # ... which is lost
    child_id = world.store.get_run("run_parent").children[0].id
    world.queue.send(Envelope(run_id=child_id, expected_version=1, target="local"))
    world.drain()  # the child's message comes back: stale, but the parent is told again
    assert world.store.get_run("run_parent").status is RunStatus.SUCCEEDED


def test_a_lost_child_done_is_recovered_by_the_sweep_of_the_last_children() -> None:
    world = World()
    world.start(2)
    world.step()  # spawn
    world.step()  # both children finish, each sends child_done
    notes = world.queue.receive(max_messages=10)
    assert [m.envelope.kind for m in notes] == [EnvelopeKind.CHILD_DONE] * 2
    world.queue.ack(notes[0])  # the first notification is lost
    process_envelope(notes[1].envelope, world.orch, {"local": world.queue})
    world.queue.ack(notes[1])
    assert world.store.get_run("run_parent").status is RunStatus.WAITING
    world.drain()
    assert world.store.get_run("run_parent").status is RunStatus.WAITING  # sweep is delayed
    world.clock.now += 2
    world.drain()
    parent = world.store.get_run("run_parent")
    assert parent.status is RunStatus.SUCCEEDED
    assert json.loads(parent.result or "")["succeeded"] == 2


def test_child_grant_is_never_wider_than_the_parent() -> None:
    parent = Grant(tools=["a", "b"], side_effects=["read"], max_children=3)
    asked = Grant(tools=["b", "c"], side_effects=["read", "write"], max_children=10)
    got = narrow_grant(parent, asked)
    assert got.tools == ["b"] and got.side_effects == ["read"] and got.max_children == 2
    assert narrow_grant(parent, None).max_children == 0
    assert narrow_grant(Grant(tools=None), Grant(tools=["x"])).tools == ["x"]
    assert narrow_grant(Grant(tools=["y"]), Grant(tools=None)).tools == ["y"]


def test_child_budget_is_a_share_of_what_the_parent_has_left() -> None:
    now = utcnow()
    parent = Run(
        id="p",
        goal="g",
        created_at=now - timedelta(seconds=100),
        budget=Budget(
            max_tokens=1000, max_tool_calls=20, max_cost_usd=1.0, max_wall_seconds=300, max_steps=10
        ),
        usage=Usage(prompt_tokens=200, cost_usd=0.2),
        tool_calls=4,
    )
    got = narrow_budget(parent, Budget(max_steps=50, max_tokens=10_000), share=4, now=now)
    assert got.max_tokens == 200 and got.max_tool_calls == 4
    assert got.max_cost_usd is not None and abs(got.max_cost_usd - 0.2) < 1e-9
    assert got.max_wall_seconds is not None and 199 <= got.max_wall_seconds <= 200
    assert got.max_steps == 10


class _Agents:
    """A catalog of one delegation tool."""

    def __init__(self) -> None:
        self.tool = Tool(
            name="ask_carriers",
            description="ask carriers",
            args_schema={"type": "object"},
            binding=EngineBinding(handler="agents", name="ask_carriers"),
        )

    @property
    def tools(self) -> list[Tool]:
        return [self.tool]

    def find(self, name: str) -> Tool | None:
        return self.tool if name == self.tool.name else None


def test_a_resolver_from_code_delegates_one_call_to_a_narrowed_child() -> None:
    world = World()
    world.children.resolvers["ask_carriers"] = lambda run, call: [
        ChildSpec(
            goal=str(call.args["goal"]),
            inputs={"n": 7},
            grant=Grant(tools=["track", "secret"], side_effects=["read", "write"]),
        )
    ]
    agents = _Agents()
    world.orch.catalogs = lambda run: agents
    planner = ScriptedPlanner(
        [
            Plan(calls=[ProposedCall(id="c1", tool="ask_carriers", args={"goal": "find a truck"})]),
            lambda ctx: Plan(final_answer=str(ctx.steps[0].calls[0].result["children"][0])),
        ]
    )
    world.orch.planners = lambda run: world.planner if run.parent_id else planner
    run = world.orch.create(
        Run(
            id="run_deleg",
            goal="reroute",
            grant=Grant(tools=["ask_carriers", "track"], side_effects=["read"], max_children=1),
        )
    )
    world.queue.send(Envelope(run_id=run.id, expected_version=run.version, target="local"))
    world.drain()
    parent = world.store.get_run("run_deleg")
    assert parent.status is RunStatus.SUCCEEDED
    assert "child 7 ok" in (parent.result or "")
    child = world.store.get_run(parent.children[0].id)
    assert child.goal == "find a truck"
    assert child.grant.tools == ["track"] and child.grant.side_effects == ["read"]
    assert child.grant.max_children == 0


class _AskingPlanner(FanPlanner):
    """Child 0 asks a human for help (and so waits, with no message in flight)."""

    def plan(self, ctx: PlanContext) -> Plan:
        if ctx.inputs.get("n") == 0 and not ctx.steps:
            return Plan(help_request="which supplier list?")
        return super().plan(ctx)


def test_killing_an_idle_child_wakes_its_waiting_parent() -> None:
    world = World(planner=_AskingPlanner())
    world.start(2)
    world.drain()
    world.clock.now += 2  # the sweep of the last children runs, and finds child 0 waiting
    world.drain()
    asking = world.store.get_run("run_parent-0-0-0")
    assert asking.status is RunStatus.AWAITING_APPROVAL
    assert world.store.get_run("run_parent").status is RunStatus.WAITING
    world.orch.kill(asking.id, reason="operator")  # nothing of the child is on the queue
    world.drain()
    parent = world.store.get_run("run_parent")
    assert parent.status is RunStatus.SUCCEEDED
    result = json.loads(parent.result or "")
    assert (result["succeeded"], result["failed"]) == (1, 1)
