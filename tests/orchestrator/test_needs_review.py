"""A run ends ``succeeded`` only when no write is left failed: each outcome case through the
real HTTP executor against a real local service, and how the API and the JSON summary show it."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from openai import OpenAI

from core.api.views import run_head, run_view
from core.domain import Plan, ProposedCall, Run, RunStatus, count_calls
from core.execution.http import HttpExecutor
from core.guardrails.base import PassThroughGuard
from core.orchestrator.engine import Orchestrator
from core.orchestrator.summary import run_summary
from core.planner.base import Planner
from core.planner.openai_planner import OpenAIPlanner
from core.state.memory import MemoryStore
from paddock.local.servers import LocalServer
from paddock.testing.fake_openai import ScriptedOpenAI, TextReply, ToolCall, ToolCallsReply
from paddock.testing.planner import ScriptedPlanner
from tests.orchestrator.crm import CrmService, crm_tools
from tests.orchestrator.service import ToolList

ORDER = {"body": {"item": "A-1", "quantity": 5}}


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"  # nothing listens once the socket is closed


@pytest.fixture()
def crm() -> Iterator[tuple[CrmService, str]]:
    service = CrmService()
    with LocalServer(service.app) as server:
        yield service, server.url


def finish(planner: Planner, url: str, *, orders_url: str | None = None) -> Run:
    catalog = ToolList(crm_tools(url, orders_url=orders_url))
    orch = Orchestrator(
        store=MemoryStore(),
        catalogs=lambda run: catalog,
        planners=lambda run: planner,
        guard=PassThroughGuard(),
        executor=HttpExecutor(backoff_base=0.01, max_retry_wait=0.1),
    )
    orch.create(Run(id="run_review", goal="order 5 of A-1 for the customer"))
    return orch.advance("run_review").run


def step(tool: str, args: dict[str, Any]) -> Plan:
    return Plan(reasoning=f"call {tool}", calls=[ProposedCall(id="", tool=tool, args=args)])


def test_a_failed_write_that_was_not_recovered_needs_review(
    crm: tuple[CrmService, str],
) -> None:
    _, url = crm
    script = [step("create_order", ORDER), Plan(reasoning="done", final_answer="Ordered.")]
    run = finish(ScriptedPlanner(script), url, orders_url=closed_port_url())
    assert run.status is RunStatus.NEEDS_REVIEW and run.status.finished
    assert run.result == "Ordered."  # the claim is kept, and not trusted
    assert run.reason is not None and "step 1 create_order" in run.reason
    summary = run_summary(run)
    assert summary["status"] == "needs_review"
    [failed] = summary["failed_writes"]
    assert (failed["step"], failed["tool"], failed["side_effect"]) == (1, "create_order", "write")
    assert failed["status_code"] is None and "connect" in failed["error"].lower()
    assert summary["call_counts"] == {
        "executed": 0,
        "failed": 1,
        "denied": 0,
        "approved": 0,
        "rejected": 0,
        "awaiting_approval": 0,
    }
    view = run_view(run)
    assert view.status is RunStatus.NEEDS_REVIEW
    assert [f.tool for f in view.failed_writes] == ["create_order"]
    assert view.calls is not None and (view.calls.executed, view.calls.failed) == (0, 1)
    assert view.steps[0].step == 1 and summary["calls"][0]["step"] == 1


def test_a_failed_read_the_planner_ignored_still_succeeds(crm: tuple[CrmService, str]) -> None:
    service, url = crm
    script = [
        step("get_customer", {"customer": "BROKEN"}),
        step("create_order", ORDER),
        Plan(reasoning="done", final_answer="Ordered 5 of A-1."),
    ]
    run = finish(ScriptedPlanner(script), url)
    assert run.status is RunStatus.SUCCEEDED and run.reason is None
    assert len(service.orders) == 1
    counts = count_calls(run)
    assert (counts.executed, counts.failed) == (1, 1)
    assert run_summary(run)["failed_writes"] == []


def test_a_write_recovered_by_a_later_call_of_the_same_purpose_succeeds() -> None:
    service = CrmService(down_for=100)
    with LocalServer(service.app) as server:
        planner = ScriptedPlanner(
            [
                step("create_order", ORDER),
                step("create_order", {"body": {"quantity": 5, "item": "A-1"}}),  # same purpose
                Plan(reasoning="done", final_answer="Ordered on the second try."),
            ]
        )
        catalog = ToolList(crm_tools(server.url))
        orch = Orchestrator(
            store=MemoryStore(),
            catalogs=lambda run: catalog,
            planners=lambda run: planner,
            guard=PassThroughGuard(),
            executor=HttpExecutor(backoff_base=0.01, max_retry_wait=0.1),
        )
        orch.create(Run(id="run_retry", goal="order 5 of A-1"))
        # the service comes back after the first call's attempts were spent
        first = orch.advance("run_retry", max_steps=1).run
        assert first.steps[0].calls[0].status_code == 503
        service.down_for = 0
        run = orch.advance("run_retry").run
    assert run.status is RunStatus.SUCCEEDED
    assert len(service.orders) == 1
    counts = count_calls(run)
    assert (counts.executed, counts.failed) == (1, 1)


def test_a_retry_with_other_arguments_is_not_a_recovery(crm: tuple[CrmService, str]) -> None:
    """Different arguments are another business object: the first order stays failed."""
    service, url = crm
    service.down_for = 100
    planner = ScriptedPlanner(
        [
            step("create_order", ORDER),
            step("create_order", {"body": {"item": "A-1", "quantity": 4}}),
            Plan(reasoning="done", final_answer="Ordered."),
        ]
    )
    catalog = ToolList(crm_tools(url))
    orch = Orchestrator(
        store=MemoryStore(),
        catalogs=lambda run: catalog,
        planners=lambda run: planner,
        guard=PassThroughGuard(),
        executor=HttpExecutor(backoff_base=0.01, max_retry_wait=0.1),
    )
    orch.create(Run(id="run_other", goal="order 5 of A-1"))
    orch.advance("run_other", max_steps=1)
    service.down_for = 0
    run = orch.advance("run_other").run
    assert run.status is RunStatus.NEEDS_REVIEW
    assert [(f.step, f.args) for f in run_view(run).failed_writes] == [(1, ORDER)]


def test_a_model_claiming_success_after_an_auth_error_needs_review(
    crm: tuple[CrmService, str],
) -> None:
    service, url = crm
    script = [
        ToolCallsReply([ToolCall("create_customer", {"body": {"name": "Acme"}})]),
        TextReply("Created customer."),
    ]
    with ScriptedOpenAI(script) as llm:
        planner = OpenAIPlanner(OpenAI(base_url=llm.base_url, api_key="k"), "gpt-4o-mini")
        run = finish(planner, url)
    assert ("POST", "/customers") in service.requests
    assert run.status is RunStatus.NEEDS_REVIEW and run.result == "Created customer."
    [failed] = run_view(run).failed_writes
    assert (failed.tool, failed.status_code) == ("create_customer", 401)
    head = run_head(run)
    assert head.calls is not None and head.calls.failed == 1 and head.calls.executed == 0


def test_run_lists_do_not_pretend_to_count_calls_they_did_not_load(
    crm: tuple[CrmService, str],
) -> None:
    _, url = crm
    run = finish(ScriptedPlanner([step("create_order", ORDER), Plan(final_answer="ok")]), url)
    assert run_head(run.model_copy(update={"steps": []})).calls is None
