"""A new run of a workflow: its goal (placeholders filled from checked inputs), grant,
budget, starting agent and the version it will resume with."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator

from core.domain import Budget, Run
from core.errors import ConfigError
from core.workflows import Workflow

_LIMITS = ("max_steps", "max_tool_calls", "max_tokens", "max_cost_usd", "max_wall_seconds")


def start_workflow_run(
    run: Run,
    workflow: Workflow,
    *,
    goal: str | None = None,
    inputs: Mapping[str, Any] | None = None,
    budget: Mapping[str, Any] | None = None,
) -> Run:
    """``run`` set up as a run of ``workflow``.

    ``inputs`` are checked against the workflow's inputs schema (its defaults apply first);
    ``goal`` replaces the default goal; ``budget`` may only lower the limits the workflow
    sets (a workflow that sets none takes the requested budget as it is).

    Raises:
        ConfigError: an input is missing or of the wrong type, or the goal names an input the
            run does not have; the message names the input.
    """
    values = dict(workflow.inputs) | dict(inputs or {})
    check_inputs(workflow, values)
    run.scenario = workflow.name
    run.workflow_version = workflow.version or None
    run.workflow_source = workflow.source
    run.catalog = workflow.sources
    run.base_urls = dict(workflow.base_urls) | dict(run.base_urls)
    run.inputs = values
    run.goal = goal if goal else fill_goal(workflow.goal, values)
    run.grant = workflow.grant
    if workflow.budget is not None:
        run.budget = _lowest(workflow.budget, budget or {})
    elif budget:
        run.budget = Budget(**budget)
    if workflow.agent is not None and workflow.agents_dir is not None:
        from core.mesh import WorkflowMeshes, act_as

        mesh = WorkflowMeshes({workflow.name: workflow.agents_dir}).for_workflow(workflow.name)
        if mesh is not None:
            act_as(run, mesh, workflow.agent)
    return run


def check_inputs(workflow: Workflow, values: Mapping[str, Any]) -> None:
    """Raises ``ConfigError`` naming the first input that does not fit the schema."""
    schema = workflow.inputs_schema
    if schema is None:
        return
    errors = sorted(
        Draft202012Validator(schema).iter_errors(dict(values)), key=lambda e: list(e.path)
    )
    if errors:
        first = errors[0]
        where = ".".join(str(p) for p in first.path)
        name = f"input {where!r}" if where else "inputs"
        raise ConfigError(f"workflow {workflow.name}: {name}: {first.message}")


def fill_goal(template: str, values: Mapping[str, Any]) -> str:
    """The goal with each ``{name}`` replaced by the input's value."""
    try:
        return template.format_map({k: _text(v) for k, v in values.items()})
    except KeyError as exc:
        raise ConfigError(
            f"the goal needs input {exc.args[0]!r}, which the run does not have"
        ) from None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _lowest(base: Budget, requested: Mapping[str, Any]) -> Budget:
    update: dict[str, Any] = {}
    for key in _LIMITS:
        asked = requested.get(key)
        if asked is None:
            continue
        current = getattr(base, key)
        update[key] = asked if current is None else min(current, asked)
    return base.model_copy(update=update)
