"""The span tree of a real run: run -> advance -> step -> plan | guard | tool | checkpoint, the
reasoning next to the tool calls, HTTP attributes, and the traceparent the service received."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.domain import Plan, Run, RunStatus, Usage
from core.errors import PlannerError
from core.execution.http import HttpExecutor
from core.guardrails.base import PassThroughGuard
from core.orchestrator.engine import Orchestrator
from core.state.memory import MemoryStore
from paddock.local.servers import LocalServer
from paddock.testing.planner import ScriptedPlanner
from tests.orchestrator.service import ToolList
from tests.telemetry.support import EchoService, Recorder, call, echo_tools, named, parent_of

SCRIPT = [
    Plan(
        reasoning="Stock first: is A-1 short?",
        confidence=0.9,
        model="gpt-4o-mini",
        usage=Usage(prompt_tokens=120, completion_tokens=30, cost_usd=0.000036),
        calls=[call("get_stock", item="A-1")],
    ),
    Plan(
        reasoning="Only 3 left: write a note for the buyer.",
        confidence=0.8,
        model="gpt-4o-mini",
        usage=Usage(prompt_tokens=200, completion_tokens=40, cost_usd=0.000054),
        calls=[call("save_note", body={"text": "A-1 low"})],
    ),
    Plan(
        reasoning="done",
        final_answer="noted",
        model="gpt-4o-mini",
        usage=Usage(prompt_tokens=250, completion_tokens=10, cost_usd=0.0000435),
    ),
]


@pytest.fixture()
def echo() -> Iterator[tuple[EchoService, str]]:
    service = EchoService()
    with LocalServer(service.app, name="echo") as server:
        yield service, server.url


def orchestrator(recorder: Recorder, url: str, script: list[Plan]) -> Orchestrator:
    catalog = ToolList(echo_tools(url))
    planner = ScriptedPlanner(script)
    return Orchestrator(
        store=MemoryStore(),
        catalogs=lambda run: catalog,
        planners=lambda run: planner,
        guard=PassThroughGuard(),
        executor=HttpExecutor(),
        tracing=recorder.tracer(),
    )


def test_a_run_is_one_tree_with_reasoning_next_to_its_tool_calls(
    echo: tuple[EchoService, str],
) -> None:
    service, url = echo
    recorder = Recorder()
    orch = orchestrator(recorder, url, list(SCRIPT))
    run = orch.create(Run(id="run_tree", goal="check A-1", tenant="acme"))
    run = orch.advance(run.id).run
    assert run.status is RunStatus.SUCCEEDED
    spans = recorder.spans()

    assert {s["trace_id"] for s in spans} == {run.traceparent.split("-")[1]}  # type: ignore[union-attr]
    [root] = named(spans, "run")
    assert root["parent_id"] is None
    assert root["attributes"]["paddock.tenant"] == "acme"
    [advance] = named(spans, "advance")
    assert advance["parent_id"] == root["span_id"]
    assert advance["attributes"]["paddock.run.status"] == "succeeded"
    steps = named(spans, "step")
    assert {s["parent_id"] for s in steps} == {advance["span_id"]}
    planned = [s for s in steps if not s["attributes"]["paddock.step.resumed"]]
    assert [s["attributes"]["paddock.step.index"] for s in planned] == [0, 1, 2]

    plans = named(spans, "plan")
    assert len(plans) == 3
    for plan in plans:
        assert parent_of(plan, spans)["name"] == "step"  # type: ignore[index]
        assert plan["attributes"]["gen_ai.request.model"] == "gpt-4o-mini"
    first = plans[0]
    assert first["attributes"]["gen_ai.usage.input_tokens"] == 120
    assert first["attributes"]["gen_ai.usage.output_tokens"] == 30
    assert first["attributes"]["paddock.cost_usd"] == pytest.approx(0.000036)
    [reasoning] = [e for e in first["events"] if e["name"] == "gen_ai.reasoning"]
    assert reasoning["attributes"]["gen_ai.reasoning.text"] == "Stock first: is A-1 short?"

    # The tool span and the reasoning that led to it share the same step.
    [read] = named(spans, "GET get_stock")
    assert read["parent_id"] == first["parent_id"]
    attrs = read["attributes"]
    assert attrs["http.request.method"] == "GET"
    assert attrs["http.response.status_code"] == 200
    assert attrs["server.address"] == "127.0.0.1"
    assert attrs["server.port"] == int(url.rsplit(":", 1)[1])
    assert attrs["url.template"] == "/stock/{item}"
    assert (attrs["paddock.tool.location"], attrs["paddock.tool.side_effect"]) == ("aws", "read")
    [write] = named(spans, "POST save_note")
    assert write["attributes"]["http.response.status_code"] == 201
    assert write["parent_id"] == plans[1]["parent_id"]

    guards = named(spans, "guard")
    assert [g["attributes"]["paddock.decision"] for g in guards] == ["allow", "allow"]
    assert guards[0]["parent_id"] == first["parent_id"]
    assert all(
        parent_of(c, spans)["name"] in ("step", "advance")  # type: ignore[index]
        for c in named(spans, "checkpoint")
    )

    # The outgoing request carried the tool span's context: the service is in the trace.
    sent = [r["headers"]["traceparent"] for r in service.requests]
    assert [p.split("-")[2] for p in sent] == [read["span_id"], write["span_id"]]
    assert {p.split("-")[1] for p in sent} == {root["trace_id"]}


def test_a_paused_run_resumes_in_the_same_trace(echo: tuple[EchoService, str]) -> None:
    _, url = echo
    recorder = Recorder()
    orch = orchestrator(recorder, url, list(SCRIPT))
    orch.create(Run(id="run_slices", goal="check A-1"))
    orch.advance("run_slices", max_steps=1)
    orch.advance("run_slices")
    spans = recorder.spans()
    advances = named(spans, "advance")
    assert len(advances) == 2
    outcomes = [a["attributes"]["paddock.advance.outcome"] for a in advances]
    assert outcomes == ["yielded", "finished"]  # why each advance stopped
    [root] = named(spans, "run")
    assert {a["parent_id"] for a in advances} == {root["span_id"]}
    assert len({s["trace_id"] for s in spans}) == 1


def test_a_planner_failure_marks_the_plan_span_without_leaking_the_message(
    echo: tuple[EchoService, str],
) -> None:
    _, url = echo
    recorder = Recorder()

    def broken(_: object) -> Plan:
        raise PlannerError("upstream said: invalid key sk-live-0123456789abcdefXYZ")

    orch = orchestrator(recorder, url, [broken])  # type: ignore[list-item]
    orch.create(Run(id="run_broken", goal="check A-1"))
    run = orch.advance("run_broken").run
    assert run.status is RunStatus.FAILED
    [plan] = named(recorder.spans(), "plan")
    assert plan["status"] == "ERROR"
    [exc] = [e for e in plan["events"] if e["name"] == "exception"]
    assert exc["attributes"]["exception.type"] == "PlannerError"
    assert "[REDACTED]" in exc["attributes"]["exception.message"]
    assert "sk-live-0123456789abcdefXYZ" not in str(recorder.spans())
    assert "stacktrace" not in str(plan["events"])


def test_reasoning_can_be_switched_off(echo: tuple[EchoService, str]) -> None:
    _, url = echo
    recorder = Recorder()
    catalog = ToolList(echo_tools(url))
    planner = ScriptedPlanner(list(SCRIPT))
    orch = Orchestrator(
        store=MemoryStore(),
        catalogs=lambda run: catalog,
        planners=lambda run: planner,
        guard=PassThroughGuard(),
        executor=HttpExecutor(),
        tracing=recorder.tracer(record_reasoning=False),
    )
    orch.create(Run(id="run_quiet", goal="check A-1"))
    orch.advance("run_quiet")
    spans = recorder.spans()
    assert len(named(spans, "plan")) == 3
    assert "Stock first" not in str(spans)
    assert "gen_ai.reasoning" not in str(spans)
    assert named(spans, "plan")[0]["attributes"]["gen_ai.usage.input_tokens"] == 120


def test_a_kill_outside_any_advance_is_recorded_under_the_run(
    echo: tuple[EchoService, str],
) -> None:
    _, url = echo
    recorder = Recorder()
    orch = orchestrator(recorder, url, list(SCRIPT))
    orch.create(Run(id="run_killed", goal="check A-1"))
    orch.advance("run_killed", max_steps=1)
    assert orch.kill("run_killed", reason="operator").status is RunStatus.KILLED
    spans = recorder.spans()
    [root] = named(spans, "run")
    [last] = [c for c in named(spans, "checkpoint") if c["parent_id"] == root["span_id"]]
    assert last["attributes"]["paddock.run.status"] == "killed"
    assert len({s["trace_id"] for s in spans}) == 1
