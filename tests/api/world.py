"""A small real world for API tests (fixtures shared with tests/functions): a local token issuer,
an orders service on 127.0.0.1, the in-memory store and queue, the real orchestrator, executor
and handler."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from core.api import ApiHandler, ApiRequest, ApiResponse, Deps, Worker, WorkOutcome
from core.api.worker import QueueHandoff
from core.domain import Decision, Plan, ProposedCall, Run, SideEffect, Tool, Verdict
from core.entry import api_handler
from core.execution.http import HttpExecutor
from core.guardrails.base import new_decision_id
from core.orchestrator.engine import Orchestrator, ToolSource
from core.queue.memory import MemoryQueue
from core.runtime import CatalogCache
from core.settings import AuthSettings, EventSettings, LocalSettings, Settings
from core.state.memory import MemoryStore
from examples import example_workflows
from paddock.local.issuer import LocalIssuer
from paddock.local.servers import LocalServer
from paddock.testing.planner import ScriptedPlanner
from tests.orchestrator.service import OrdersService, ToolList, tools

TENANT = "acme"


def call(tool: str, **args: Any) -> ProposedCall:
    return ProposedCall(id="", tool=tool, args=args)


ORDER_FLOW = [
    Plan(reasoning="check stock", confidence=0.9, calls=[call("get_item", item="A-1")]),
    Plan(
        reasoning="order it",
        confidence=0.6,
        calls=[call("create_order", body={"item": "A-1", "quantity": 5})],
    ),
    Plan(reasoning="done", final_answer="ordered 5 of A-1"),
]


class WritesNeedApproval:
    """Reads pass; every write waits for a human."""

    def check(
        self, run: Run, tool: Tool | None, call: ProposedCall, *, confidence: float | None = None
    ) -> Decision:
        if tool is None:
            return Decision(
                id=new_decision_id(),
                verdict=Verdict.DENY,
                reasons=["unknown"],
                rule_ids=["unknown_tool"],
            )
        if tool.side_effect is not SideEffect.READ:
            return Decision(
                id=new_decision_id(),
                verdict=Verdict.REQUIRE_APPROVAL,
                reasons=["writes need a human"],
                rule_ids=["writes"],
            )
        return Decision(id=new_decision_id(), verdict=Verdict.ALLOW)


@dataclass
class World:
    issuer: LocalIssuer
    service: OrdersService
    url: str
    store: MemoryStore
    queue: MemoryQueue
    deps: Deps
    api: ApiHandler
    worker: Worker
    script: list[Plan] = field(default_factory=lambda: list(ORDER_FLOW))

    def token(
        self, sub: str = "alice", tenant: str = TENANT, roles: Sequence[str] = (), **kw: Any
    ) -> str:
        return self.issuer.token(sub, tenant, roles, **kw)

    def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = "default",
        body: Any = None,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
    ) -> ApiResponse:
        sent = dict(headers or {})
        if token == "default":
            token = self.token()
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
        if data and "content-type" not in {k.lower() for k in sent}:
            sent["Content-Type"] = "application/json"
        return self.api.handle(ApiRequest(method, path, query or {}, sent, data))

    def start(self, **body: Any) -> str:
        body.setdefault("goal", "order 5 of A-1")
        body.setdefault("catalog", [f"{self.url}/openapi.json"])
        response = self.request("POST", "/runs", body=body)
        assert response.status == 202, response.body
        run_id: str = response.json()["run_id"]
        return run_id

    def drain(self, limit: int = 20) -> list[WorkOutcome]:
        """Process queued envelopes until the queue is empty."""
        outcomes: list[WorkOutcome] = []
        for _ in range(limit):
            messages = self.queue.receive(max_messages=10)
            if not messages:
                return outcomes
            for message in messages:
                outcomes.append(self.worker.process(message.envelope))
                self.queue.ack(message)
        raise AssertionError("queue did not drain")


@pytest.fixture(scope="session")
def issuer() -> Iterator[LocalIssuer]:
    with LocalIssuer() as served:
        yield served


class _Current:
    """An ASGI app that forwards to whichever app the current test installed: one server per
    session, a fresh service (and state) per test."""

    def __init__(self) -> None:
        self.app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


@pytest.fixture(scope="session")
def _orders_server() -> Iterator[tuple[_Current, str]]:
    current = _Current()
    with LocalServer(current, name="orders") as server:
        yield current, server.url


@pytest.fixture()
def orders(_orders_server: tuple[_Current, str]) -> tuple[OrdersService, str]:
    current, url = _orders_server
    service = OrdersService()
    current.app = service.app
    return service, url


def build_world(
    issuer: LocalIssuer,
    service: OrdersService,
    url: str,
    *,
    store: MemoryStore | None = None,
    queue: MemoryQueue | None = None,
    events: EventSettings | None = None,
) -> World:
    store = MemoryStore() if store is None else store
    queue = MemoryQueue() if queue is None else queue
    orders = ToolList(tools(url))
    bundled = CatalogCache()

    def catalogs(run: Run) -> ToolSource:
        return orders if any(s.startswith(url) for s in run.catalog) else bundled(run)

    planners: dict[str, ScriptedPlanner] = {}
    world: World

    def planner_for(run: Run) -> ScriptedPlanner:
        if run.id not in planners:
            planners[run.id] = ScriptedPlanner(world.script)
        return planners[run.id]

    orchestrator = Orchestrator(
        store=store,
        catalogs=catalogs,
        planners=planner_for,
        guard=WritesNeedApproval(),
        executor=HttpExecutor(),
        cloud="local",
        handoff=QueueHandoff({"local": queue}),
    )
    settings = Settings(
        auth=AuthSettings(issuer=issuer.issuer),
        local=LocalSettings(enabled=True),
        events=events or EventSettings(),
    )
    deps = Deps(
        settings,
        store=store,
        queues={"local": queue},
        orchestrator=orchestrator,
        catalogs=catalogs,
        workflows=example_workflows(),
    )
    world = World(
        issuer=issuer,
        service=service,
        url=url,
        store=store,
        queue=queue,
        deps=deps,
        api=api_handler(deps),
        worker=Worker(deps),
    )
    return world


@pytest.fixture()
def world(issuer: LocalIssuer, orders: tuple[OrdersService, str]) -> World:
    service, url = orders
    return build_world(issuer, service, url)
