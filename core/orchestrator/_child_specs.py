"""What a child run should do, and the built-in ``spawn_subtasks`` tool that asks for children.
Re-exported by ``core.orchestrator.children``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from core.domain import Budget, CallRecord, EngineBinding, Grant, Run, Tool
from core.errors import PaddockError

SPAWN_TOOL = "spawn_subtasks"


class ChildSpec(BaseModel):
    """What one child run should do. Unset fields are inherited from the parent."""

    goal: str = Field(min_length=1, max_length=4000)
    inputs: dict[str, Any] = Field(default_factory=dict)
    scenario: str | None = None
    agent: str | None = None
    """The agent profile the child acts as (delegation to a domain agent, ``core.mesh``)."""
    planner: str | None = None
    catalog: list[str] | None = None
    """Spec sources; only code (a resolver), never the planner's arguments, may set these."""
    base_urls: dict[str, str] | None = None
    grant: Grant | None = None
    """Narrowed to the parent's grant; ``None``: the parent's grant without children."""
    budget: Budget | None = None
    """Narrowed to the parent's share; ``None``: the parent's limits, shared."""
    cloud: str | None = None
    """Whose queue runs the child (``aws``, ``azure``, ``local``); default: the parent's."""


class ChildSpecError(PaddockError):
    """A resolver could not turn a call into child specs; the call fails with this message."""


Resolver = Callable[[Run, CallRecord], list[ChildSpec]]
"""Turns a guarded, allowed call of a parent into the specs of its children."""


class _Task(BaseModel):
    goal: str = Field(min_length=1, max_length=4000)
    inputs: dict[str, Any] = Field(default_factory=dict)


class _Tasks(BaseModel):
    tasks: list[_Task] = Field(min_length=1, max_length=100)


def subtasks_from_args(parent: Run, call: CallRecord) -> list[ChildSpec]:
    """The resolver of ``spawn_subtasks``: one child per task, each with the parent's
    scenario, catalog and planner, and only the goal and inputs the planner chose."""
    try:
        tasks = _Tasks.model_validate(call.args)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ChildSpecError(f"bad {SPAWN_TOOL} arguments at {where}: {first['msg']}") from exc
    return [ChildSpec(goal=t.goal, inputs=t.inputs) for t in tasks.tasks]


def subtask_tool() -> Tool:
    """The ``spawn_subtasks`` tool as the planner sees it (read-only for the parent: each
    child is guarded on its own)."""
    return Tool(
        name=SPAWN_TOOL,
        binding=EngineBinding(handler="children", name=SPAWN_TOOL),
        description=(
            "Start one child run per task and wait for all of them; the result "
            "lists each child's status, answer and error."
        ),
        args_schema={
            "type": "object",
            "additionalProperties": False,
            "required": ["tasks"],
            "properties": {
                "tasks": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 100,
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["goal"],
                        "properties": {
                            "goal": {"type": "string", "minLength": 1},
                            "inputs": {"type": "object"},
                        },
                    },
                }
            },
        },
    )


class _WithSubtasks:
    def __init__(self, inner: Any, tool: Tool) -> None:
        self._inner = inner
        self._tool = tool

    @property
    def tools(self) -> list[Tool]:
        return [*self._inner.tools, self._tool]

    def find(self, name: str) -> Tool | None:
        return self._tool if name == self._tool.name else self._inner.find(name)


def with_subtask_tool(catalogs: Callable[[Run], Any]) -> Callable[[Run], Any]:
    """Wrap a catalog provider so runs allowed children (``Grant.max_children > 0``) also
    see ``spawn_subtasks``, ``fan_out`` and ``child_results``; other runs see their catalog
    unchanged."""
    from core.orchestrator._fanout import fanout_tool, results_tool

    extra = [subtask_tool(), fanout_tool(), results_tool()]

    def provide(run: Run) -> Any:
        inner = catalogs(run)
        if run.grant.max_children <= 0:
            return inner
        for tool in extra:
            inner = _WithSubtasks(inner, tool)
        return inner

    return provide
