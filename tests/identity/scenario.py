"""Runs the supply-chain scenario end to end with a given identity (or none)."""

from __future__ import annotations

import uuid
from typing import Any

from core.domain import Run
from core.execution.base import Executor
from core.identity import Identity
from core.runtime import build_orchestrator
from core.state.base import RunStore
from core.telemetry.tracing import RunTracer
from examples import example_workflows, get_example, rule_scripts
from paddock.cli.common import drive


def run_scenario(
    services: Any,
    store: RunStore,
    *,
    identity: Identity | None = None,
    executor: Executor | None = None,
    tracing: RunTracer | None = None,
) -> Run:
    scenario = get_example("supply-chain")
    orch = build_orchestrator(
        store=store,
        identity=identity,
        executor=executor,
        tracing=tracing,
        workflows=example_workflows(),
        rule_scripts=rule_scripts(),
    )
    run = Run(
        id="run_" + uuid.uuid4().hex[:10],
        goal=scenario.goal,
        scenario=scenario.name,
        catalog=[str(p) for p in scenario.spec_paths()],
        base_urls=dict(services.base_urls),
        grant=scenario.grant,
        planner="rules",
        inputs=dict(scenario.inputs),
        tenant="acme",
    )
    run = orch.create(run)
    return drive(orch, run, approve="auto", console=None)
