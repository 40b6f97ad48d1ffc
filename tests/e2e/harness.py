"""Runs a scripted agent against the live supply-chain services, through the real stack.

The same script is played by four planners: the offline ``ScriptedPlanner`` and the real model
planners on their SDK clients, each talking to a scripted server of its wire on 127.0.0.1:
``OpenAIPlanner`` (``openai``) to ``ScriptedOpenAI``, ``BedrockPlanner`` (boto3 Converse) to
``ScriptedBedrock``, ``AnthropicPlanner`` (``anthropic``) to ``ScriptedAnthropic``. Everything
after the planner is what production uses: the scenario's catalog, its Cedar policy through
``WorkflowGuard``, the HTTP executor, the orchestrator and a store.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest.mock import patch

from core.domain import Budget, CallRecord, Plan, ProposedCall, Run, Usage
from core.identity.setup import Identity
from core.orchestrator.engine import Orchestrator
from core.planner.anthropic_planner import from_settings as anthropic_from_settings
from core.planner.base import PlanContext, Planner
from core.planner.bedrock_planner import from_settings as bedrock_from_settings
from core.planner.openai_planner import from_env
from core.runtime import build_orchestrator
from core.settings import ModelSettings
from core.state.memory import MemoryStore
from examples import example_workflows, get_example
from examples.supply_chain import SupplyChainServices
from examples.supply_chain.identity import local_verifiers
from paddock.cli.common import drive
from paddock.local.identity import local_identity_bundle
from paddock.testing.fake_anthropic import ScriptedAnthropic
from paddock.testing.fake_bedrock import ScriptedBedrock
from paddock.testing.fake_openai import ScriptedOpenAI, TextReply, ToolCall, ToolCallsReply
from paddock.testing.planner import ScriptedPlanner

PLANNERS = ("offline", "openai", "bedrock", "anthropic")
FINAL = "I will stop here and report to a buyer."
AWS_KEYS = {"AWS_ACCESS_KEY_ID": "AKIDLOCAL", "AWS_SECRET_ACCESS_KEY": "local-secret"}

Hook = Callable[[], None]


@dataclass(frozen=True)
class Move:
    """One turn of the agent: the calls it proposes, with its confidence and token usage."""

    calls: Sequence[tuple[str, dict[str, Any]]]
    confidence: float = 0.9
    usage: tuple[int, int] = (0, 0)
    before: Hook | None = None
    """Runs when the planner is asked for this move (e.g. an operator hits the kill switch)."""


def move(
    tool: str,
    confidence: float = 0.9,
    usage: tuple[int, int] = (0, 0),
    before: Hook | None = None,
    **args: Any,
) -> Move:
    return Move([(tool, args)], confidence, usage, before)


@contextmanager
def live_services() -> Iterator[tuple[SupplyChainServices, Identity]]:
    """The scenario's services checking the credentials of a local identity, as in the demo."""
    identity, local = local_identity_bundle()
    with SupplyChainServices(verify_auth=local_verifiers(local)) as services:
        yield services, identity


@dataclass
class World:
    """Live services, a store and an orchestrator wired like production."""

    services: SupplyChainServices
    identity: Identity
    store: MemoryStore = field(default_factory=MemoryStore)

    def orchestrator(self, planner: Planner) -> Orchestrator:
        return build_orchestrator(
            store=self.store,
            planners=lambda run: planner,
            identity=self.identity,
            workflows=example_workflows(),
        )

    def new_run(
        self,
        *,
        budget: Budget | None = None,
        requested_by: str = "alice",
        run_id: str = "run_attack",
    ) -> Run:
        scenario = get_example("supply-chain")
        return Run(
            id=run_id,
            goal=scenario.goal,
            scenario=scenario.name,
            catalog=[str(p) for p in scenario.spec_paths()],
            base_urls=dict(self.services.base_urls),
            grant=scenario.grant,
            requested_by=requested_by,
            budget=budget or Budget(),
        )

    def requests(self) -> list[tuple[str, str, str]]:
        """(service, method, path) of every request the services received."""
        return [
            (key, r.method, r.path)
            for key, svc in self.services.services.items()
            for r in svc.requests
        ]


def _offline(moves: Sequence[Move]) -> Planner:
    def play(m: Move, i: int) -> Callable[[PlanContext], Plan]:
        def plan(ctx: PlanContext) -> Plan:
            if m.before is not None:
                m.before()
            return Plan(
                reasoning=f"move {i}",
                confidence=m.confidence,
                calls=[
                    ProposedCall(id=f"c{i}-{n}", tool=t, args=a) for n, (t, a) in enumerate(m.calls)
                ],
                usage=Usage(prompt_tokens=m.usage[0], completion_tokens=m.usage[1]),
            )

        return plan

    script: list[Plan | Callable[[PlanContext], Plan]] = [play(m, i) for i, m in enumerate(moves)]
    script += [Plan(reasoning=FINAL, final_answer=FINAL)] * 10
    return ScriptedPlanner(script, label="scripted offline agent")


def _openai_turns(moves: Sequence[Move]) -> list[Any]:
    def turn(m: Move) -> Any:
        reply = ToolCallsReply(
            [ToolCall(t, a) for t, a in m.calls],
            content=f"Next step.\nconfidence: {m.confidence}",
            usage=m.usage if m.usage != (0, 0) else None,
        )
        if m.before is None:
            return reply

        def hooked(body: dict[str, Any]) -> ToolCallsReply:
            assert m.before is not None
            m.before()
            return reply

        return hooked

    return [turn(m) for m in moves]


@contextmanager
def agent(kind: str, moves: Sequence[Move]) -> Iterator[Planner]:
    """A planner of ``kind`` that plays ``moves`` and then gives a final answer."""
    if kind == "offline":
        yield _offline(moves)
        return
    turns = _openai_turns(moves)
    if kind == "bedrock":
        with ScriptedBedrock(turns, default=TextReply(FINAL)) as bedrock:
            settings = {
                "BEDROCK_MODEL_ID": "us.anthropic.claude-haiku-4-5-20251001-v1:0",
                "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": bedrock.endpoint_url,
            }
            with patch.dict(os.environ, AWS_KEYS):  # the standard chain finds these
                yield bedrock_from_settings(ModelSettings.from_env(settings), region="eu-central-1")
        return
    if kind == "anthropic":
        with ScriptedAnthropic(turns, default=TextReply(FINAL), api_key="sk-ant") as anthropic:
            settings = {
                "ANTHROPIC_API_KEY": "sk-ant",
                "ANTHROPIC_BASE_URL": anthropic.base_url,
                "ANTHROPIC_MODEL": "claude-haiku-4-5",
            }
            yield anthropic_from_settings(ModelSettings.from_env(settings))
        return
    with ScriptedOpenAI(turns, default=TextReply(FINAL)) as llm:
        yield from_env(
            {
                "OPENAI_BASE_URL": llm.base_url,
                "OPENAI_API_KEY": "sk-local",
                "OPENAI_MODEL": "gpt-4o-mini",
            }
        )


def play(
    world: World,
    kind: str,
    moves: Sequence[Move],
    *,
    approve: str = "reject",
    budget: Budget | None = None,
) -> Run:
    """Run the scripted agent to the end (approvals decided as ``approve`` says)."""
    with agent(kind, moves) as planner:
        orch = world.orchestrator(planner)
        run = orch.create(world.new_run(budget=budget))
        return drive(orch, run, approve=approve, console=None)


def calls_to(run: Run, tool: str) -> list[CallRecord]:
    return [c for s in run.steps for c in s.calls if c.tool == tool]
