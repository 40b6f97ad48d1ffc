"""Events from real runs through the worker to receivers on 127.0.0.1: signed webhooks, an
Event Grid-compatible topic, a receiver that fails then recovers, and approvals."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from core.domain import RunStatus
from core.queue.memory import MemoryQueue
from core.settings import EventSettings
from paddock.local.issuer import LocalIssuer
from tests.api.world import World, build_world
from tests.events.receivers import EVENTGRID_KEY, Receiver
from tests.orchestrator.service import OrdersService

SECRET = "webhook-secret-0123456789"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def hook() -> Iterator[Receiver]:
    with Receiver(secret=SECRET) as receiver:
        yield receiver


def _world(
    issuer: LocalIssuer, orders: tuple[OrdersService, str], events: EventSettings, clock: Clock
) -> World:
    service, url = orders
    return build_world(issuer, service, url, queue=MemoryQueue(clock=clock), events=events)


def _approve(world: World, run_id: str) -> None:
    [pending] = world.store.get_run(run_id).pending_approvals
    reply = world.request(
        "POST",
        f"/runs/{run_id}/approvals/{pending.id}",
        body={"decision": "approve"},
        token=world.token(sub="bob", roles=["approver"]),
    )
    assert reply.status == 200, reply.body


def test_a_run_with_an_approval_sends_each_event_once_signed(
    issuer: LocalIssuer,
    orders: tuple[OrdersService, str],
    hook: Receiver,
) -> None:
    events = EventSettings(webhooks=(hook.url,), webhook_secrets=(SECRET,))
    world = _world(issuer, orders, events, Clock())
    run_id = world.start()
    world.drain()
    assert hook.types() == ["run.started", "approval.requested"]
    _approve(world, run_id)
    world.drain()
    assert world.store.get_run(run_id).status is RunStatus.SUCCEEDED
    assert hook.types() == [
        "run.started",
        "approval.requested",
        "approval.decided",
        "run.succeeded",
    ]
    assert hook.refused == []  # every signature verified, no id twice
    done = hook.events[-1]
    assert done["specversion"] == "1.0" and done["subject"] == run_id
    assert done["id"] == f"{run_id}:run.succeeded" and done["paddocktenant"] == "acme"
    assert done["data"]["status"] == "succeeded" and done["data"]["result"] == "ordered 5 of A-1"
    decided = hook.events[2]["data"]
    assert (decided["decision"], decided["decided_by"], decided["tool"]) == (
        "approved",
        "bob",
        "create_order",
    )


def test_a_failing_receiver_never_holds_the_run_and_gets_every_event_when_it_recovers(
    issuer: LocalIssuer,
    orders: tuple[OrdersService, str],
) -> None:
    clock = Clock()
    with Receiver(secret=SECRET, fail_first=3) as flaky, Receiver(secret=SECRET) as healthy:
        events = EventSettings(webhooks=(flaky.url, healthy.url), webhook_secrets=(SECRET,))
        world = _world(issuer, orders, events, clock)
        world.script = world.script[:1] + world.script[2:]  # read, then done: no approval
        run_id = world.start()
        world.drain()
        assert world.store.get_run(run_id).status is RunStatus.SUCCEEDED
        assert healthy.types() == ["run.started", "run.succeeded"]
        assert flaky.accepted == []
        assert world.queue.receive(10) == []  # the retry is backed off, not visible yet
        rounds = 0
        for _ in range(5):
            clock.now += 900
            rounds += sum(o.outcome.value == "published" for o in world.drain())
            if flaky.accepted:
                break
        assert rounds == 3  # failed at the slice's end and twice more, then delivered
        assert flaky.types() == ["run.started", "run.succeeded"]
        assert healthy.types() == ["run.started", "run.succeeded"]  # not sent again
        clock.now += 900
        assert world.queue.receive(10) == []  # delivered: no more retries


def test_cancel_publishes_run_killed_and_event_grid_takes_the_batch(
    issuer: LocalIssuer,
    orders: tuple[OrdersService, str],
) -> None:
    with Receiver(kind="eventgrid") as grid:
        events = EventSettings(eventgrid_endpoint=grid.url, eventgrid_key=EVENTGRID_KEY)
        world = _world(issuer, orders, events, Clock())
        run_id = world.start()
        world.drain()
        reply = world.request("POST", f"/runs/{run_id}/cancel", body={"reason": "wrong item"})
        assert reply.status == 200, reply.body
        world.drain()
        assert grid.refused == []
        # Killing the run closes its pending approval: that is a decision too.
        assert grid.types() == [
            "run.started",
            "approval.requested",
            "approval.decided",
            "run.killed",
        ]
        assert grid.events[2]["data"]["decision"] == "expired"
        assert "wrong item (cancelled by alice)" in grid.events[-1]["data"]["reason"]
        assert len(grid.accepted) == 2  # one batch per delivery round


def test_without_transports_an_events_message_is_dropped_quietly(
    issuer: LocalIssuer,
    orders: tuple[OrdersService, str],
) -> None:
    world = _world(issuer, orders, EventSettings(), Clock())
    run_id = world.start()
    world.drain()
    world.request("POST", f"/runs/{run_id}/cancel", body={"reason": "stop"})
    assert [o.outcome.value for o in world.drain()] == ["published"]
    assert world.store.get_counter(f"events:{run_id}").etag is None


def test_an_events_message_never_advances_the_run(
    issuer: LocalIssuer,
    orders: tuple[OrdersService, str],
) -> None:
    from core.api.worker import process_envelope
    from core.queue.base import Envelope, EnvelopeKind

    world = _world(issuer, orders, EventSettings(), Clock())
    run_id = world.start()
    head = world.store.get_run(run_id, with_steps=False)
    events = Envelope(
        run_id=run_id, expected_version=head.version, target="local", kind=EnvelopeKind.EVENTS
    )
    outcome = process_envelope(events, world.deps.orchestrator, {"local": world.queue})
    assert outcome.outcome.value == "published"
    after = world.store.get_run(run_id, with_steps=False)
    assert (after.status, after.version) == (RunStatus.PENDING, head.version)


class _NoEventsQueue(MemoryQueue):
    """A queue that refuses ``events`` messages (the queue service failing at that moment)."""

    def send(self, envelope: Any, delay_seconds: int = 0) -> str:
        from core.errors import BackendError
        from core.queue.base import EnvelopeKind

        if envelope.kind is EnvelopeKind.EVENTS:
            raise BackendError("queue unavailable")
        return super().send(envelope, delay_seconds)


def test_a_cancel_stands_when_its_events_message_cannot_be_sent(
    issuer: LocalIssuer,
    orders: tuple[OrdersService, str],
) -> None:
    service, url = orders
    world = build_world(issuer, service, url, queue=_NoEventsQueue(), events=EventSettings())
    run_id = world.start()
    world.drain()
    reply = world.request("POST", f"/runs/{run_id}/cancel", body={"reason": "stop"})
    assert reply.status == 200, reply.body
    assert world.store.get_run(run_id).status is RunStatus.KILLED
