"""Races between child runs and their parent, replayed deterministically on every backend.

A ``PausingStore`` wraps the real store and holds one thread at an exact store operation
(after the parent's ``waiting`` checkpoint, before the kill marks the parent...) while the
test moves another worker past it. The parent is planned by the real openai client against
``ScriptedOpenAI`` (its requests are the model calls counted); the children by a real
``RulePlanner`` whose rule reads an item from a real local HTTP service (every request the
service sees is a tool call a child executed).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from openai import OpenAI

from core.api.worker import Outcome, WorkOutcome, process_envelope
from core.domain import Grant, Plan, ProposedCall, Run, RunStatus, StepStatus
from core.execution.http import HttpExecutor
from core.guardrails.base import PassThroughGuard
from core.orchestrator.children import SPAWN_TOOL, ChildRuns, with_subtask_tool
from core.orchestrator.engine import Orchestrator
from core.planner.base import PlanContext
from core.planner.openai_planner import OpenAIPlanner
from core.planner.rules import RulePlanner
from core.queue.base import Envelope, EnvelopeKind
from core.queue.memory import MemoryQueue
from core.state.base import RunStore
from paddock.local.servers import LocalServer
from paddock.testing.fake_openai import ScriptedOpenAI, TextReply, ToolCall, ToolCallsReply
from tests.orchestrator.fanout import QueueClock
from tests.orchestrator.service import OrdersService, ToolList, tools

PARENT = "run_parent"
WAIT = 60.0  # seconds a paused thread or the test waits for the other side (never reached)


# -- a store that holds one thread at one exact operation ---------------------------------

Predicate = Callable[[tuple[Any, ...], dict[str, Any], Any], bool]


@dataclass
class _Pause:
    method: str
    thread: str
    when: Predicate
    before: bool
    reached: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    fired: bool = False


class PausingStore:
    """Delegates every call to ``inner``; a registered pause holds the named thread once,
    before or after the matching call, until the test releases it."""

    def __init__(self, inner: RunStore) -> None:
        self.inner = inner
        self._pauses: list[_Pause] = []
        self._lock = threading.Lock()

    def pause(self, method: str, *, thread: str, when: Predicate, before: bool = False) -> _Pause:
        found = _Pause(method, thread, when, before)
        self._pauses.append(found)
        return found

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.inner, name)
        if not callable(target):
            return target

        def call(*args: Any, **kwargs: Any) -> Any:
            self._hold(name, args, kwargs, None, before=True)
            out = target(*args, **kwargs)
            self._hold(name, args, kwargs, out, before=False)
            return out

        return call

    def _hold(
        self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any], out: Any, *, before: bool
    ) -> None:
        me = threading.current_thread().name
        with self._lock:
            hit = next(
                (
                    p
                    for p in self._pauses
                    if not p.fired
                    and p.method == name
                    and p.thread == me
                    and p.before is before
                    and p.when(args, kwargs, out)
                ),
                None,
            )
            if hit is not None:
                hit.fired = True
        if hit is not None:
            hit.reached.set()
            assert hit.release.wait(WAIT), f"{me} was never released"


def parent_checkpoint(status: RunStatus) -> Predicate:
    """Matches the parent's checkpoint that writes ``status``."""
    return lambda args, kwargs, out: args[0].id == PARENT and args[0].status is status


def step_closed(args: tuple[Any, ...], kwargs: dict[str, Any], out: Any) -> bool:
    """Matches the parent's checkpoint that marks its spawn step done after the wake."""
    steps = kwargs.get("steps") or ()
    return (
        args[0].id == PARENT
        and args[0].status is RunStatus.RUNNING
        and len(steps) == 1
        and steps[0].index == 0
        and steps[0].status is StepStatus.DONE
    )


def any_call(args: tuple[Any, ...], kwargs: dict[str, Any], out: Any) -> bool:
    return True


# -- the world: parent on a scripted model, children on rules, one real service -------------


def child_rule(ctx: PlanContext) -> Plan:
    """A child reads its item from the service, then answers with the stock."""
    if not ctx.steps:
        return Plan(
            reasoning="look it up",
            calls=[ProposedCall(id="read", tool="get_item", args={"item": ctx.inputs["item"]})],
        )
    return Plan(final_answer=f"{ctx.inputs['item']}: {ctx.steps[-1].calls[0].result}")


class RaceWorld:
    def __init__(self, store: RunStore, model: ScriptedOpenAI, service_url: str) -> None:
        self.store = PausingStore(store)
        self.queue = MemoryQueue(clock=QueueClock())  # delayed sweeps stay invisible
        self.children = ChildRuns(self.store, {"local": self.queue})  # type: ignore[arg-type]
        catalog = ToolList(tools(service_url))
        parent = OpenAIPlanner(
            OpenAI(base_url=model.base_url, api_key="k", max_retries=0), "gpt-test"
        )
        children = RulePlanner({"probe": child_rule})
        self.orch = Orchestrator(
            store=self.store,
            catalogs=with_subtask_tool(lambda run: catalog),  # type: ignore[arg-type]
            planners=lambda run: children if run.parent_id else parent,
            guard=PassThroughGuard(),
            executor=HttpExecutor(),
            children=self.children,
        )
        self.outcomes: list[WorkOutcome] = []

    def start(self, items: list[str], *, running: int) -> None:
        run = Run(
            id=PARENT,
            goal="check the stock of every item",
            scenario="probe",
            grant=Grant(max_children=10),
        )
        run.budget.max_running_children = running
        run = self.orch.create(run)
        self.queue.send(Envelope(run_id=run.id, expected_version=run.version, target="local"))

    def process(self, envelope: Envelope) -> None:
        self.outcomes.append(process_envelope(envelope, self.orch, {"local": self.queue}))

    def take(self, kind: EnvelopeKind | None = None) -> Envelope:
        """Receive exactly one message (of ``kind``) and acknowledge it."""
        got = self.queue.receive(max_messages=10)
        assert len(got) == 1, [m.envelope for m in got]
        self.queue.ack(got[0])
        assert kind is None or got[0].envelope.kind is kind
        return got[0].envelope

    def drain(self) -> None:
        for _ in range(100):
            got = self.queue.receive(max_messages=100)
            if not got:
                return
            for message in got:
                self.process(message.envelope)
                self.queue.ack(message)
        raise AssertionError("the queue never drained")


def spawn_reply(items: list[str]) -> ToolCallsReply:
    tasks = [{"goal": f"stock of {item}", "inputs": {"item": item}} for item in items]
    return ToolCallsReply([ToolCall(SPAWN_TOOL, {"tasks": tasks})])


@pytest.fixture()
def service() -> Iterator[tuple[OrdersService, str]]:
    svc = OrdersService()
    with LocalServer(svc.app) as server:
        yield svc, server.url


def thread(name: str, target: Callable[[], object]) -> threading.Thread:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            target()
        except BaseException as exc:  # re-raised by join()
            errors.append(exc)

    worker = threading.Thread(target=run, name=name, daemon=True)
    worker.errors = errors  # type: ignore[attr-defined]
    worker.start()
    return worker


def join(worker: threading.Thread) -> None:
    worker.join(WAIT)
    assert not worker.is_alive(), f"{worker.name} is stuck"
    errors: list[BaseException] = worker.errors  # type: ignore[attr-defined]
    if errors:
        raise errors[0]


def reached(pause: _Pause) -> None:
    assert pause.reached.wait(WAIT), f"{pause.thread} never reached {pause.method}"


# -- race 1: the spawner and a child's child_done both wake the parent ------------------------


def test_a_parent_woken_by_a_child_while_spawning_is_planned_once(
    store: RunStore, service: tuple[OrdersService, str]
) -> None:
    """The child finishes and its ``child_done`` wakes the parent (and closes the spawn
    step) between the spawner's ``waiting`` checkpoint and its own collect. The spawner then
    finds a running parent it did not wake: only the worker whose compare-and-swap woke it
    may plan, so the model is asked once for the next step."""
    _, url = service
    with ScriptedOpenAI(
        [spawn_reply(["A-1"]), TextReply("A-1 checked")], default=TextReply("planned twice")
    ) as model:
        world = RaceWorld(store, model, url)
        world.start(["A-1"], running=5)
        first = world.take()
        saved = world.store.pause(
            "checkpoint", thread="spawner", when=parent_checkpoint(RunStatus.WAITING)
        )
        spawner = thread("spawner", lambda: world.process(first))
        reached(saved)  # the parent is waiting; the spawner has not collected yet
        world.process(world.take())  # the child runs and finishes: child_done is queued
        done = world.take(EnvelopeKind.CHILD_DONE)
        closed = world.store.pause("checkpoint", thread="notifier", when=step_closed)
        notifier = thread("notifier", lambda: world.process(done))
        reached(closed)  # child_done woke the parent, closed the step and will plan next
        saved.release.set()
        join(spawner)
        closed.release.set()
        join(notifier)
        world.drain()
        parent = world.store.get_run(PARENT)
        assert parent.status is RunStatus.SUCCEEDED, parent.reason
        assert parent.result == "A-1 checked"
        assert model.counters.completions == 2  # the spawn, and one plan after the wake
        # child, spawner (lost the wake: no second chain), child_done (planned and finished)
        assert [o.outcome for o in world.outcomes] == [
            Outcome.FINISHED,
            Outcome.IDLE,
            Outcome.FINISHED,
        ]


def test_a_parent_whose_children_finished_before_it_waited_is_woken_by_the_spawner(
    store: RunStore, service: tuple[OrdersService, str]
) -> None:
    """The other order: the child's ``child_done`` comes before the parent waits and finds
    nothing to wake; the spawner's own collect wakes it and plans on, once."""
    _, url = service
    with ScriptedOpenAI(
        [spawn_reply(["A-1"]), TextReply("A-1 checked")], default=TextReply("planned twice")
    ) as model:
        world = RaceWorld(store, model, url)
        world.start(["A-1"], running=5)
        first = world.take()
        created = world.store.pause(
            "checkpoint", thread="spawner", before=True, when=parent_checkpoint(RunStatus.WAITING)
        )
        spawner = thread("spawner", lambda: world.process(first))
        reached(created)  # children created and sent; the parent is not waiting yet
        world.process(world.take())  # the child finishes
        world.process(world.take(EnvelopeKind.CHILD_DONE))  # nothing to wake yet
        created.release.set()
        join(spawner)
        world.drain()
        parent = world.store.get_run(PARENT)
        assert parent.status is RunStatus.SUCCEEDED, parent.reason
        assert model.counters.completions == 2


# -- race 2: a kill of the parent while children are being spawned or launched -----------------


def test_children_spawned_while_the_parent_is_killed_never_execute_a_call(
    store: RunStore, service: tuple[OrdersService, str]
) -> None:
    """The kill raises the parent's flag while the spawner has created and sent the children
    but not yet recorded them on the parent, so the kill cannot see them. The launched child
    must not act, and the one beyond the cap must not be left pending for ever."""
    svc, url = service
    with ScriptedOpenAI(
        [spawn_reply(["A-1", "B-2"])], default=TextReply("parent planned again")
    ) as model:
        world = RaceWorld(store, model, url)
        world.start(["A-1", "B-2"], running=1)
        first = world.take()
        spawning = world.store.pause(
            "checkpoint", thread="spawner", before=True, when=parent_checkpoint(RunStatus.WAITING)
        )
        spawner = thread("spawner", lambda: world.process(first))
        reached(spawning)
        flagged = world.store.pause("set_kill", thread="killer", when=any_call)
        killer = thread("killer", lambda: world.orch.kill(PARENT, reason="operator"))
        reached(flagged)  # the kill is under way; the parent is not marked killed yet
        world.process(world.take())  # the launched child's message comes up
        flagged.release.set()
        join(killer)
        spawning.release.set()
        join(spawner)
        world.drain()
        assert svc.requests == []  # no child executed anything
        assert world.store.get_run(PARENT).status is RunStatus.KILLED
        for n in (0, 1):
            child = world.store.get_run(f"{PARENT}-0-0-{n}")
            assert child.status is RunStatus.KILLED, (child.id, child.status)
            assert not child.steps or not any(c.executed for s in child.steps for c in s.calls)


def test_a_child_launched_beyond_the_cap_while_the_parent_is_killed_never_executes(
    store: RunStore, service: tuple[OrdersService, str]
) -> None:
    """Child 0 finishes; its ``child_done`` launches child 1 (held back by the cap) while a
    kill of the parent is under way. Child 1 must stop before its first call."""
    svc, url = service
    with ScriptedOpenAI(
        [spawn_reply(["A-1", "B-2"])], default=TextReply("parent planned again")
    ) as model:
        world = RaceWorld(store, model, url)
        world.start(["A-1", "B-2"], running=1)
        world.process(world.take())  # spawn: child 0 launched, child 1 waits for room
        world.process(world.take())  # child 0 reads A-1 and finishes
        assert len(svc.requests) == 1
        done = world.take(EnvelopeKind.CHILD_DONE)
        flagged = world.store.pause("set_kill", thread="killer", when=any_call)
        killer = thread("killer", lambda: world.orch.kill(PARENT, reason="operator"))
        reached(flagged)
        world.process(done)  # records child 0 and launches child 1
        world.process(world.take())  # child 1's message comes up before the kill lands
        flagged.release.set()
        join(killer)
        world.drain()
        assert len(svc.requests) == 1  # child 1 never read B-2
        assert world.store.get_run(PARENT).status is RunStatus.KILLED
        late = world.store.get_run(f"{PARENT}-0-0-1")
        assert late.status is RunStatus.KILLED
        assert not any(c.executed for s in late.steps for c in s.calls)


# -- deeper trees: a run checks every run above it, not only its parent ----------------------


def test_a_grandchild_stops_when_the_kill_of_a_run_above_it_is_under_way(
    store: RunStore, service: tuple[OrdersService, str]
) -> None:
    """The kill of the root has raised its flag but reached neither the middle run (spawned
    as the kill began) nor its child: the grandchild still stops before its first call."""
    svc, url = service
    with ScriptedOpenAI() as model:
        world = RaceWorld(store, model, url)
        root = world.orch.create(Run(id="run_root", goal="g", scenario="probe"))
        world.orch.create(Run(id="run_mid", goal="g", scenario="probe", parent_id=root.id))
        world.orch.create(
            Run(
                id="run_leaf",
                goal="g",
                scenario="probe",
                parent_id="run_mid",
                inputs={"item": "A-1"},
            )
        )
        flagged = world.store.pause("set_kill", thread="killer", when=any_call)
        killer = thread("killer", lambda: world.orch.kill(root.id, reason="operator"))
        reached(flagged)  # the root's flag is up; nothing else is marked yet
        leaf = world.orch.advance("run_leaf").run
        flagged.release.set()
        join(killer)
    assert leaf.status is RunStatus.KILLED
    assert leaf.reason == "ancestor run_root stopped: kill switch (run:run_root): operator"
    assert svc.requests == [] and not leaf.steps


def test_a_grandchild_of_a_finished_run_stops_before_its_first_step(
    store: RunStore, service: tuple[OrdersService, str]
) -> None:
    svc, url = service
    with ScriptedOpenAI() as model:
        world = RaceWorld(store, model, url)
        world.orch.create(Run(id="run_root", goal="g", scenario="probe"))
        world.orch.create(Run(id="run_mid", goal="g", scenario="probe", parent_id="run_root"))
        world.orch.create(
            Run(
                id="run_leaf",
                goal="g",
                scenario="probe",
                parent_id="run_mid",
                inputs={"item": "A-1"},
            )
        )
        world.orch._kill_one("run_root", "operator")  # marked killed, flag and children not
        leaf = world.orch.advance("run_leaf").run
    assert leaf.status is RunStatus.KILLED
    assert "ancestor run_root is killed" in (leaf.reason or "")
    assert svc.requests == [] and not leaf.steps
