"""Fan-out over data the run holds, and fan-in whose size does not grow with the children."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Sequence
from typing import Any

import pytest

from core.domain import (
    CallRecord,
    CallStatus,
    Grant,
    Plan,
    ProposedCall,
    Run,
    RunStatus,
    Step,
    utcnow,
)
from core.errors import PlannerError
from core.orchestrator._child_specs import ChildSpecError
from core.orchestrator._fanout import (
    FANOUT_TOOL,
    INLINE_CHILDREN,
    RESULTS_TOOL,
    fanout_from_data,
)
from core.orchestrator._ledger import MAX_PER_STEP, Ledger, child_key
from core.orchestrator.children import fanin_progress
from core.planner.base import PlanContext
from core.queue.base import Envelope
from core.state.memory import MemoryStore
from tests.orchestrator.fanout import World


class DataPlanner:
    """Parent: fan out over its ``suppliers`` input, page the failures, answer. Child: fail
    when its item says so, else answer for its supplier."""

    label = "data fan-out planner"

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.parent_prompts: list[int] = []

    def plan(self, ctx: PlanContext) -> Plan:
        if "item" in ctx.inputs:
            item = ctx.inputs["item"]
            if item.get("fail"):
                raise PlannerError(f"supplier {item['id']} did not answer")
            return Plan(final_answer=f"supplier {item['id']} ok")
        with self.lock:
            self.parent_prompts.append(
                len(json.dumps([s.model_dump(mode="json") for s in ctx.steps]))
            )
        if not ctx.steps:
            over = {"input": "suppliers"}
            args = {"over": over, "goal": "assess supplier {id} in {region}"}
            return Plan(calls=[ProposedCall(id="fan", tool=FANOUT_TOOL, args=args)])
        if len(ctx.steps) == 1:
            args = {"call_id": "fan", "status": "failed", "limit": 50}
            return Plan(calls=[ProposedCall(id="page", tool=RESULTS_TOOL, args=args)])
        return Plan(final_answer="assessed")


def _suppliers(count: int, failing: int = 3) -> list[dict[str, Any]]:
    return [{"id": f"S-{n:04d}", "region": "EU", "fail": n < failing} for n in range(count)]


def _run(count: int, *, max_children: int = 1000) -> tuple[World, Run, DataPlanner]:
    planner = DataPlanner()
    world = World(planner=planner)  # type: ignore[arg-type]
    run = Run(
        id=f"run_fan_{count}",
        goal="assess every supplier",
        inputs={"suppliers": _suppliers(count)},
        grant=Grant(max_children=max_children),
    )
    run.budget.max_running_children = 50
    run.budget.max_tool_calls = None
    run = world.orch.create(run)
    world.queue.send(Envelope(run_id=run.id, expected_version=run.version, target="local"))
    world.drain(limit=2000)
    return world, world.store.get_run(run.id), planner


def test_a_fan_out_over_an_input_starts_one_child_per_item_and_pages_the_failures() -> None:
    _, parent, _ = _run(60)
    assert parent.status is RunStatus.SUCCEEDED, (parent.error, parent.reason)
    assert len(parent.children) == 60
    fan = parent.steps[0].calls[0]
    assert fan.result["total"] == 60 and fan.result["failed"] == 3
    assert {c["goal"] for c in fan.result["failures"]} == {
        f"assess supplier S-000{n} in EU" for n in range(3)
    }
    page = parent.steps[1].calls[0]
    assert page.status is CallStatus.DONE and page.result["total"] == 3
    assert all(c["status"] == "failed" for c in page.result["children"])


def test_the_fan_in_stays_the_same_size_whatever_the_number_of_children() -> None:
    _, small, small_planner = _run(INLINE_CHILDREN + 5)
    _, large, large_planner = _run(400)
    small_result = json.dumps(small.steps[0].calls[0].result)
    large_result = json.dumps(large.steps[0].calls[0].result)
    assert len(large_result) <= len(small_result) + 200  # counts grow by digits, not by rows
    assert max(large_planner.parent_prompts) <= max(small_planner.parent_prompts) + 400


def test_the_grant_caps_the_whole_fan_out_before_anything_starts() -> None:
    world, parent, _ = _run(30, max_children=10)
    fan = parent.steps[0].calls[0]
    assert fan.status is CallStatus.ERROR and "allowance of 10" in (fan.error or "")
    assert parent.children == []
    assert len(world.store.list_runs(limit=100).runs) == 1  # no child run was created


def _holder(result: Any, *, untrusted: bool) -> Run:
    call = CallRecord(
        call_id="c1",
        tool="read_inbox",
        status=CallStatus.DONE,
        executed=True,
        result=result,
        untrusted=untrusted,
    )
    return Run(
        id="run_h", goal="g", steps=[Step(index=0, calls=[call])], grant=Grant(max_children=50)
    )


def _fan(args: dict[str, Any]) -> CallRecord:
    return CallRecord(call_id="f", tool=FANOUT_TOOL, args=args)


def test_items_from_untrusted_text_can_only_start_read_only_children() -> None:
    run = _holder({"messages": [{"id": "M-1"}, {"id": "M-2"}]}, untrusted=True)
    specs = fanout_from_data(run, _fan({"over": {"from_tool": "read_inbox"}, "goal": "read {id}"}))
    assert [s.goal for s in specs] == ["read M-1", "read M-2"]
    assert all(s.grant is not None and s.grant.side_effects == ["read"] for s in specs)
    trusted = fanout_from_data(
        _holder([1, 2], untrusted=False),
        _fan({"over": {"from_tool": "read_inbox"}, "goal": "do {item}"}),
    )
    assert [s.goal for s in trusted] == ["do 1", "do 2"] and trusted[0].grant is None


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ({"over": {"from_tool": "nothing"}, "goal": "x"}, "no successful result"),
        ({"over": {"input": "missing"}, "goal": "x"}, "no input"),
        ({"over": {}, "goal": "x"}, "one of them"),
        ({"over": {"from_tool": "read_inbox"}, "goal": "x {nope}"}, "{nope}"),
        ({"over": {"from_tool": "read_inbox", "path": "$.messages["}, "goal": "x"}, "JSONPath"),
        ({"over": {"from_tool": "read_inbox"}, "goal": "x", "max_items": 1}, "max_items"),
    ],
)
def test_bad_fan_outs_are_refused_with_the_reason(args: dict[str, Any], needle: str) -> None:
    run = _holder({"messages": [{"id": "M-1"}, {"id": "M-2"}]}, untrusted=False)
    with pytest.raises(ChildSpecError) as caught:
        fanout_from_data(run, _fan(args))
    assert needle in caught.value.message


class CountingStore(MemoryStore):
    """The memory store, counting reads and writes of each run (how often a parent is
    touched while its children finish)."""

    def __init__(self) -> None:
        super().__init__()
        self.reads: Counter[str] = Counter()
        self.heads: Counter[str] = Counter()
        self.writes: Counter[str] = Counter()

    def get_run(self, run_id: str, *, with_steps: bool = True) -> Run:
        (self.reads if with_steps else self.heads)[run_id] += 1
        return super().get_run(run_id, with_steps=with_steps)

    def checkpoint(self, run: Run, *, expected_version: int, steps: Sequence[Step] = ()) -> Run:
        self.writes[run.id] += 1
        return super().checkpoint(run, expected_version=expected_version, steps=steps)


@pytest.mark.parametrize("running", [300, 40])
def test_finishing_children_do_not_rewrite_the_parent_each_time(running: int) -> None:
    store = CountingStore()
    world = World(store=store, planner=DataPlanner())  # type: ignore[arg-type]
    run = Run(
        id="run_wide",
        goal="assess every supplier",
        inputs={"suppliers": _suppliers(300, failing=0)},
        grant=Grant(max_children=300),
    )
    run.budget.max_running_children = running
    run.budget.max_tool_calls = None
    world.orch.create(run)
    world.queue.send(Envelope(run_id=run.id, expected_version=1, target="local"))
    world.drain(limit=2000)
    parent = store.get_run("run_wide")
    assert parent.status is RunStatus.SUCCEEDED
    assert parent.steps[0].calls[0].result["succeeded"] == 300
    assert all(c.status is RunStatus.SUCCEEDED for c in parent.children)
    if running >= 300:  # every child sent at the spawn: finishing ones never write the parent
        assert store.writes["run_wide"] <= 8
    else:  # a finish that launches the next child rewrites the parent's head, and only then
        assert store.writes["run_wide"] <= 300 - running + 8
    # the whole parent (its steps) is read a few times, not once per finished child; its head
    # is read by each child (is the parent still there, where does it live)
    assert store.reads["run_wide"] <= 10
    assert store.heads["run_wide"] <= 3 * 300 + (300 - running) + 10
    # each child is read a bounded number of times, not once per sibling that finished
    children = [r for r in store.reads.keys() | store.heads.keys() if r != "run_wide"]
    assert max(store.reads[r] + store.heads[r] for r in children) <= 8


def test_a_waiting_parent_shows_how_many_children_have_finished() -> None:
    world = World()
    world.start(5, running=2)
    world.step()  # the parent spawns and launches two
    parent = world.store.get_run("run_parent")
    assert fanin_progress(world.store, parent) == "waiting for 5 child run(s): 0 finished"
    world.step()  # the two run and tell the parent
    world.step()  # their child_done messages: recorded, two more launched
    parent = world.store.get_run("run_parent")
    assert parent.status is RunStatus.WAITING
    assert fanin_progress(world.store, parent) == "waiting for 5 child run(s): 2 finished"
    world.drain()
    done = world.store.get_run("run_parent")
    assert done.status is RunStatus.SUCCEEDED and fanin_progress(world.store, done) is None


@pytest.mark.parametrize(("count", "running"), [(3, 10), (5, 2)])
def test_a_worker_that_died_after_recording_a_child_does_not_strand_the_parent(
    count: int, running: int
) -> None:
    world = World()
    world.start(count, running=running)
    world.step()  # the parent spawns
    world.step()  # the launched children run; their child_done messages are queued
    finished = [
        c.id
        for c in world.store.get_run("run_parent").children
        if world.store.get_run(c.id, with_steps=False).status.finished
    ]
    assert finished
    # A worker recorded them in the ledger and died before gathering or launching the next:
    # the messages come back as duplicates.
    keys = [found[1] for c in finished if (found := child_key("run_parent", c)) is not None]
    assert len(keys) == len(finished)
    Ledger(world.store).finish("run_parent", 0, keys)
    world.drain()
    parent = world.store.get_run("run_parent")
    assert parent.status is RunStatus.SUCCEEDED
    assert all(c.status is RunStatus.SUCCEEDED for c in parent.children)


def test_one_step_spawns_at_most_the_ledgers_worth_of_children() -> None:
    world = World()
    suppliers = _suppliers(700, failing=0)  # three fan-outs of 700: the third is one too many
    run = Run(
        id="run_two",
        goal="g",
        inputs={"suppliers": suppliers},
        grant=Grant(max_children=MAX_PER_STEP * 2),
    )
    step = Step(
        index=0,
        calls=[
            CallRecord(
                call_id=f"f{n}",
                tool=FANOUT_TOOL,
                args={"over": {"input": "suppliers"}, "goal": "assess {id}"},
            )
            for n in range(3)
        ],
    )
    run.steps.append(step)
    world.children.spawn(run, step, step.calls, create=world.orch.create, now=utcnow())
    first, second, third = step.calls
    assert first.status is second.status is CallStatus.EXECUTING
    assert len(run.children) == 2 * len(suppliers) <= MAX_PER_STEP
    assert third.status is CallStatus.ERROR
    assert f"more than {MAX_PER_STEP} child runs in one step" in (third.error or "")


def test_a_child_done_for_a_run_that_does_not_exist_is_not_counted() -> None:
    world = World()
    world.start(3)
    world.step()  # the parent spawns
    forged = world.children.collect("run_parent", child_id="run_parent-0-0-99")
    assert not forged.woke
    assert Ledger(world.store).read("run_parent", 0).done == frozenset()
    world.drain()
    parent = world.store.get_run("run_parent")
    assert parent.status is RunStatus.SUCCEEDED
    assert json.loads(parent.result or "")["succeeded"] == 3
