"""What the planner is shown for a large catalog, and the ``search_tools`` meta-tool, through
the real step loop (and the real openai client against ScriptedOpenAI)."""

from __future__ import annotations

from typing import Any

import pytest
from openai import OpenAI

from core.catalog import Catalog
from core.domain import CallStatus, Grant, Plan, ProposedCall, Run, RunStatus
from core.errors import ConfigError
from core.execution.http import HttpExecutor
from core.guardrails import PolicyGuard
from core.guardrails.base import PassThroughGuard
from core.orchestrator.engine import Orchestrator
from core.orchestrator.tool_search import SEARCH_TOOL, default_tool_search
from core.planner.base import PlanContext
from core.planner.openai_planner import OpenAIPlanner
from core.runtime import build_orchestrator
from core.settings import Settings
from core.state.memory import MemoryStore
from paddock.testing.fake_openai import ScriptedOpenAI, TextReply, ToolCall, ToolCallsReply
from paddock.testing.planner import ScriptedPlanner

GOAL = "Refund the customer's payment for charge ch_3K9 in full"


def orchestrator(catalog: Catalog, planner: Any) -> tuple[Orchestrator, MemoryStore]:
    store = MemoryStore()
    orch = Orchestrator(
        store=store,
        catalogs=lambda run: catalog,
        planners=lambda run: planner,
        guard=PolicyGuard(),
        executor=HttpExecutor(),
    )
    return orch, store


def names(ctx: PlanContext) -> list[str]:
    return [t.name for t in ctx.tools]


def test_large_catalog_shows_top_k_and_search_finds_more(stripe: Catalog) -> None:
    def first(ctx: PlanContext) -> Plan:
        return Plan(
            reasoning="find the cancel tool",
            calls=[
                ProposedCall(id="s1", tool=SEARCH_TOOL, args={"query": "cancel payout", "k": 3})
            ],
        )

    planner = ScriptedPlanner([first, Plan(reasoning="done", final_answer="found it")])
    orch, _ = orchestrator(stripe, planner)
    orch.create(Run(id="run_search", goal=GOAL))
    run = orch.advance("run_search").run
    assert run.status is RunStatus.SUCCEEDED
    shown = names(planner.contexts[0])
    assert len(shown) == 13 and shown[-1] == SEARCH_TOOL
    assert "PostChargesChargeRefunds" in shown and "PostPayoutsPayoutCancel" not in shown
    search = run.steps[0].calls[0]
    assert search.status is CallStatus.DONE and not search.executed
    assert search.decision is not None and search.decision.rule_ids == ["tool_search"]
    found = [t["name"] for t in search.result["tools"]]
    assert found[0] == "PostPayoutsPayoutCancel" and len(found) <= 3
    assert set(found) <= set(names(planner.contexts[1]))


def test_search_only_finds_tools_the_grant_allows(stripe: Catalog) -> None:
    planner = ScriptedPlanner(
        [
            Plan(
                reasoning="look",
                calls=[ProposedCall(id="s1", tool=SEARCH_TOOL, args={"query": "delete customer"})],
            ),
            Plan(reasoning="done", final_answer="ok"),
        ]
    )
    orch, _ = orchestrator(stripe, planner)
    orch.create(Run(id="run_ro", goal="tidy up customers", grant=Grant(side_effects=["read"])))
    run = orch.advance("run_ro").run
    found = run.steps[0].calls[0].result["tools"]
    assert found and {t["side_effect"] for t in found} == {"read"}
    assert all(
        t.side_effect.value == "read" for t in planner.contexts[1].tools if t.name != SEARCH_TOOL
    )


def test_bad_search_arguments_are_an_error_the_planner_sees(stripe: Catalog) -> None:
    planner = ScriptedPlanner(
        [
            Plan(reasoning="look", calls=[ProposedCall(id="s1", tool=SEARCH_TOOL, args={})]),
            Plan(reasoning="done", final_answer="ok"),
        ]
    )
    orch, _ = orchestrator(stripe, planner)
    orch.create(Run(id="run_bad", goal=GOAL))
    call = orch.advance("run_bad").run.steps[0].calls[0]
    assert call.status is CallStatus.ERROR and "query" in (call.error or "")


def test_small_catalogs_are_shown_whole(stripe: Catalog) -> None:
    small = stripe.subset(stripe.names[:20])
    planner = ScriptedPlanner([Plan(reasoning="done", final_answer="ok")])
    orch, _ = orchestrator(small, planner)
    orch.create(Run(id="run_small", goal=GOAL))
    orch.advance("run_small")
    assert names(planner.contexts[0]) == small.names


def test_openai_planner_sends_the_narrowed_tools(stripe: Catalog) -> None:
    script = [
        ToolCallsReply([ToolCall(SEARCH_TOOL, {"query": "cancel payout"})]),
        TextReply("I found PostPayoutsPayoutCancel."),
    ]
    with ScriptedOpenAI(script) as model:
        planner = OpenAIPlanner(
            OpenAI(base_url=model.base_url, api_key="k"), "gpt-test", max_retries=0
        )
        orch, _ = orchestrator(stripe, planner)
        orch.create(Run(id="run_llm", goal=GOAL))
        run = orch.advance("run_llm").run
        bodies = model.bodies
    assert run.status is RunStatus.SUCCEEDED
    sent = [[t["function"]["name"] for t in body["tools"]] for body in bodies]
    assert SEARCH_TOOL in sent[0] and len(sent[0]) <= 15  # top 12, search, help
    assert "PostPayoutsPayoutCancel" not in sent[0] and "PostPayoutsPayoutCancel" in sent[1]


def test_threshold_and_top_k_come_from_the_settings() -> None:
    env = {"PADDOCK_TOOL_SEARCH_THRESHOLD": "10", "PADDOCK_TOOL_SEARCH_TOP_K": "4"}
    orch = build_orchestrator(
        store=MemoryStore(), settings=Settings.from_env(env), guard=PassThroughGuard()
    )
    assert orch.tool_search is not None
    assert (orch.tool_search.threshold, orch.tool_search.top_k) == (10, 4)
    assert default_tool_search().top_k == 12  # an Orchestrator given none
    with pytest.raises(ConfigError, match="PADDOCK_TOOL_SEARCH_TOP_K='many': input should be"):
        Settings.from_env({"PADDOCK_TOOL_SEARCH_TOP_K": "many"})
    with pytest.raises(ConfigError, match="PADDOCK_TOOL_SEARCH_THRESHOLD='0'"):
        Settings.from_env({"PADDOCK_TOOL_SEARCH_THRESHOLD": "0"})
