"""PADDOCK_TOOL_RPM / PADDOCK_HOST_RPM: parsed strictly, wired by ``build_orchestrator``, and a
configured limit holds back real calls through the HTTP executor."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from core.api.worker import Outcome, WorkOutcome, process_envelope
from core.domain import CallStatus, Plan, ProposedCall, Run, RunStatus
from core.errors import ConfigError
from core.guardrails.base import PassThroughGuard
from core.orchestrator.engine import Orchestrator
from core.queue.base import Envelope
from core.queue.memory import MemoryQueue
from core.ratelimit import RateLimiter
from core.ratelimit.config import requests_per_minute, tool_limits
from core.runtime import build_orchestrator
from core.settings import LimitSettings, Settings, parse_rates
from core.state.memory import MemoryStore
from paddock.local.servers import LocalServer
from paddock.testing.planner import ScriptedPlanner


class Stock:
    """GET /items/{item}: counts every request it serves."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.app = Starlette(routes=[Route("/items/{item}", self.get, methods=["GET"])])

    async def get(self, request: Request) -> JSONResponse:
        self.seen.append(request.path_params["item"])
        return JSONResponse({"item": request.path_params["item"], "stock": 3})


@pytest.fixture(scope="module")
def stock() -> Iterator[tuple[Stock, str]]:
    service = Stock()
    with LocalServer(service.app, name="stock") as server:
        yield service, server.url


@pytest.fixture()
def spec(stock: tuple[Stock, str], tmp_path: Path) -> str:
    service, url = stock
    service.seen.clear()
    document = {
        "openapi": "3.0.3",
        "info": {"title": "Stock", "version": "1"},
        "servers": [{"url": url}],
        "paths": {
            "/items/{item}": {
                "get": {
                    "operationId": "get_item",
                    "summary": "Stock of one item",
                    "parameters": [
                        {
                            "name": "item",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    "responses": {"200": {"description": "ok"}},
                }
            }
        },
    }
    path = tmp_path / "stock.json"
    path.write_text(json.dumps(document))
    return str(path)


def _read(item: str) -> Plan:
    return Plan(
        reasoning=f"stock of {item}",
        calls=[ProposedCall(id=f"c-{item}", tool="get_item", args={"item": item})],
    )


def _orchestrator(env: dict[str, str], store: MemoryStore) -> Orchestrator:
    planner = ScriptedPlanner([_read("A-1"), _read("A-2"), Plan(final_answer="3 each")])
    return build_orchestrator(
        store=store,
        settings=Settings.from_env(env),
        guard=PassThroughGuard(),
        planners=lambda run: planner,
    )


def _work(orch: Orchestrator, spec: str) -> tuple[WorkOutcome, Run]:
    queue = MemoryQueue()
    run = orch.create(Run(id="run_limits", goal="stock of A-1 and A-2", catalog=[spec]))
    queue.send(Envelope(run_id=run.id, expected_version=run.version, target="local"))
    [message] = queue.receive(max_messages=1)
    out = process_envelope(message.envelope, orch, {"local": queue})
    return out, orch.store.get_run(run.id)


def test_without_limits_both_calls_go_out(stock: tuple[Stock, str], spec: str) -> None:
    service, _ = stock
    out, run = _work(_orchestrator({}, MemoryStore()), spec)
    assert out.outcome is Outcome.FINISHED and run.status is RunStatus.SUCCEEDED
    assert service.seen == ["A-1", "A-2"]


@pytest.mark.parametrize("variable", ["PADDOCK_TOOL_RPM", "PADDOCK_HOST_RPM"])
def test_a_configured_limit_defers_the_second_call_before_it_is_sent(
    stock: tuple[Stock, str], spec: str, variable: str
) -> None:
    service, url = stock
    name = "get_item" if variable == "PADDOCK_TOOL_RPM" else url.split("//")[1]
    store = MemoryStore()
    out, run = _work(_orchestrator({variable: f"other=100, {name}=2"}, store), spec)
    assert out.outcome is Outcome.DEFERRED
    assert out.delay is not None and 25 <= out.delay <= 31  # one call per 30 s
    assert service.seen == ["A-1"]
    second = run.steps[-1].calls[0]
    assert second.args == {"item": "A-2"}
    assert second.status is CallStatus.APPROVED and second.claimed_at is None
    kind = "tool" if variable == "PADDOCK_TOOL_RPM" else "host"
    assert store.get_counter(f"ratelimit:{kind}:{name}:rpm").value["tokens"] < 1


def test_workers_share_the_bucket_through_the_store(stock: tuple[Stock, str], spec: str) -> None:
    service, _ = stock
    store = MemoryStore()
    env = {"PADDOCK_TOOL_RPM": "get_item=2"}
    first = _orchestrator(env, store)
    assert first.admission is not None
    first.admission.admit(
        Run(id="elsewhere", goal="g"), [(_call("get_item"), None)]
    )  # another worker took the only unit
    out, _ = _work(_orchestrator(env, store), spec)
    assert out.outcome is Outcome.DEFERRED and service.seen == []


def _call(tool: str) -> Any:
    from core.domain import CallRecord

    return CallRecord(call_id="x", tool=tool)


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("PADDOCK_TOOL_RPM", "get_item=nan", "positive number"),
        ("PADDOCK_TOOL_RPM", "get_item=inf", "positive number"),
        ("PADDOCK_TOOL_RPM", "get_item=1e400", "positive number"),
        ("PADDOCK_TOOL_RPM", "get_item=-5", "positive number"),
        ("PADDOCK_TOOL_RPM", "get_item=0", "positive number"),
        ("PADDOCK_TOOL_RPM", "get_item=lots", "positive number"),
        ("PADDOCK_TOOL_RPM", "get_item=", "positive number"),
        ("PADDOCK_TOOL_RPM", "get_item", "is not <tool name>=<requests per minute>"),
        ("PADDOCK_TOOL_RPM", "=30", "is not <tool name>"),
        ("PADDOCK_TOOL_RPM", "a=1,,b=2", "is not <tool name>"),
        ("PADDOCK_TOOL_RPM", "get item=30", "is not <tool name>"),
        ("PADDOCK_TOOL_RPM", "a=1;b=2", "pairs separated by commas"),
        ("PADDOCK_TOOL_RPM", "a=1,a=2", "given twice"),
        ("PADDOCK_HOST_RPM", "erp.example.com/v1=30", "is not <host[:port]>"),
        ("PADDOCK_HOST_RPM", "https://erp.example.com=30", "is not <host[:port]>"),
        ("PADDOCK_HOST_RPM", "ERP.example.com=1,erp.example.com=2", "given twice"),
    ],
)
def test_bad_values_stop_the_build_with_one_clear_line(
    variable: str, value: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=variable) as caught:
        build_orchestrator(
            store=MemoryStore(),
            settings=Settings.from_env({variable: value}),
            guard=PassThroughGuard(),
            planners=lambda run: ScriptedPlanner([]),
        )
    assert message in caught.value.message and "\n" not in caught.value.message


def test_good_values_parse() -> None:
    assert parse_rates("", variable="V") == parse_rates("  ", variable="V") == {}
    assert parse_rates(" a=30, b.c-d_e=1.5 ,x=1e3", variable="V") == {
        "a": 30.0,
        "b.c-d_e": 1.5,
        "x": 1000.0,
    }
    assert parse_rates("ERP.example.com:8443=60,[::1]:80=5", variable="V", hosts=True) == {
        "erp.example.com:8443": 60.0,
        "[::1]:80": 5.0,
    }
    assert tool_limits(LimitSettings.from_env({}), MemoryStore()) is None
    assert tool_limits(LimitSettings.from_env({"PADDOCK_TOOL_RPM": " "}), MemoryStore()) is None


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("per_minute", [0.5, 2, 7, 19.9, 20, 120, 600])
def test_no_minute_ever_sees_more_than_the_limit(per_minute: float) -> None:
    """A caller that sends the moment the bucket allows: count grants in every 60 s window."""
    clock = Clock()
    limiter = RateLimiter(MemoryStore(), clock=clock)
    limit = requests_per_minute("t", per_minute)
    granted: list[float] = []
    while clock.now < 600:
        grant = limiter.try_acquire(limit)
        if grant.granted:
            granted.append(clock.now)
        else:
            clock.now += grant.retry_after + 1e-6
    most, end = 0, 0
    for start, t in enumerate(granted):  # the grants in [t, t + 60), for every grant t
        while end < len(granted) and granted[end] < t + 60:
            end += 1
        most = max(most, end - start)
    assert most <= max(1, per_minute)
    assert len(granted) >= 0.9 * per_minute * 10  # and the limit is not much lower than asked


def test_the_cli_stops_with_one_line(spec: str, tmp_path: Path) -> None:
    from tests.cli.test_cli import paddock

    proc = paddock(
        "run",
        "--catalog",
        spec,
        "--goal",
        "stock of A-1",
        home=tmp_path,
        env={"PADDOCK_HOST_RPM": "127.0.0.1:8001=nan"},
        timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "paddock: error: PADDOCK_HOST_RPM: the limit of '127.0.0.1:8001' must be a positive "
        "number of requests per minute, not 'nan'"
    ]
