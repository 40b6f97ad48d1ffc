"""Delegation: a domain agent, seen by the agent that delegates to it as one tool.

``ask_<agent>(goal, context)`` is guarded like any call. When allowed, the orchestrator's
child-run machinery (:mod:`core.orchestrator.children`) turns it into a child run of that
agent, sent to the queue of the agent's home cloud, with

* the agent's grant intersected with the parent's (never wider),
* the agent's budget capped by the parent's remaining budget (the child's spend is added to
  the parent's when it finishes),
* the child's answer as the call's result, marked untrusted when the child read untrusted
  text on its way to it.

A delegation whose goal or context carries values that reached the parent only through
untrusted text (an injected instruction being passed on) is narrowed to read-only calls.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from core.domain import (
    CallRecord,
    Decision,
    EngineBinding,
    Location,
    ProposedCall,
    Run,
    SideEffect,
    Tool,
)
from core.guardrails.base import Guard
from core.guardrails.findings import deny, fold
from core.guardrails.provenance import ProvenanceIndex, untrusted_origin
from core.mesh.profiles import ASK_PREFIX, AgentMesh, AgentProfile, load_mesh
from core.orchestrator.children import ChildSpec, ChildSpecError, Resolver

MeshLookup = Callable[[Run], "AgentMesh | None"]

ASK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["goal"],
    "properties": {
        "goal": {
            "type": "string",
            "minLength": 3,
            "maxLength": 2000,
            "description": "What the agent should find out or do, in one or two sentences.",
        },
        "context": {
            "type": "object",
            "maxProperties": 20,
            "description": "Facts the agent needs (ids, dates, numbers).",
        },
    },
}


def ask_tool(profile: AgentProfile) -> Tool:
    """The tool a delegating agent sees for ``profile``."""
    writes = any(e != "read" for e in profile.side_effects)
    return Tool(
        name=profile.ask_tool,
        binding=EngineBinding(handler="agents", name=profile.ask_tool),
        description=(
            f"Delegate to the {profile.title} agent (runs in {profile.home_cloud}): "
            f"{profile.domain} Returns its answer."
        ),
        args_schema=ASK_SCHEMA,
        location=Location(profile.home_cloud)
        if profile.home_cloud != "local"
        else Location.EXTERNAL,
        side_effect=SideEffect.WRITE if writes else SideEffect.READ,
    )


class WorkflowMeshes:
    """The agent mesh of each workflow that is one (``Workflow.agents_dir``), loaded once."""

    def __init__(self, dirs: Mapping[str, Path] | None = None) -> None:
        self._dirs = dict(dirs or {})
        self._meshes: dict[str, AgentMesh] = {}
        self._lock = threading.Lock()

    @property
    def scenarios(self) -> list[str]:
        return list(self._dirs)

    def for_workflow(self, scenario: str) -> AgentMesh | None:
        directory = self._dirs.get(scenario)
        if directory is None:
            return None
        with self._lock:
            mesh = self._meshes.get(scenario)
            if mesh is None:
                mesh = self._meshes[scenario] = load_mesh(directory)
            return mesh

    def __call__(self, run: Run) -> AgentMesh | None:
        if run.agent is None or run.scenario is None:
            return None
        return self.for_workflow(run.scenario)

    def ask_tool_names(self) -> list[str]:
        names = {
            p.ask_tool
            for s in self._dirs
            for p in (self.for_workflow(s) or AgentMesh([])).profiles.values()
        }
        return sorted(names)


class _AgentView:
    """The catalog as one agent sees it: its own tools and its delegation tools.

    ``find`` still knows every catalog tool and every agent of the mesh, so a call to a tool
    the agent does not own is refused by the guard (entitlement) with a reason, rather than
    being an unknown name.
    """

    def __init__(self, inner: Any, shown: list[Tool], extra: dict[str, Tool]) -> None:
        self._inner = inner
        self._shown = shown
        self._extra = extra

    @property
    def tools(self) -> list[Tool]:
        return list(self._shown)

    def find(self, name: str) -> Tool | None:
        found = self._extra.get(name)
        return found if found is not None else self._inner.find(name)


def mesh_catalogs(catalogs: Callable[[Run], Any], meshes: MeshLookup) -> Callable[[Run], Any]:
    """Wrap a catalog provider: a run acting as an agent sees only that agent's tools."""

    def provide(run: Run) -> Any:
        inner = catalogs(run)
        mesh = meshes(run)
        if mesh is None or run.agent is None:
            return inner
        profile = mesh.get(run.agent)
        asks = {t.name: t for t in map(ask_tool, mesh.profiles.values())}
        shown = [t for t in inner.tools if t.name in profile.tools]
        shown += [asks[mesh.get(d).ask_tool] for d in profile.delegates]
        return _AgentView(inner, shown, asks)

    return provide


class MeshGuard:
    """Confines an agent to its own tools and delegation tools, then applies the workflow's
    guard to every call, delegations included: the workflow's Cedar policy is validated
    against its catalog plus the mesh's ``ask_*`` tools, so its rules govern delegations too."""

    def __init__(self, inner: Guard, meshes: MeshLookup) -> None:
        self.inner = inner
        self._meshes = meshes

    def check(
        self, run: Run, tool: Tool | None, call: ProposedCall, *, confidence: float | None = None
    ) -> Decision:
        mesh = self._meshes(run)
        if tool is not None and mesh is not None and run.agent is not None:
            # The grant also covers the delegates' tools (a child's grant is cut from it); the
            # agent itself may call only its own tools and its delegation tools.
            profile = mesh.profiles.get(run.agent)
            own = (
                set()
                if profile is None
                else {*profile.tools, *(mesh.get(d).ask_tool for d in profile.delegates)}
            )
            if tool.name not in own:
                return fold(
                    [
                        deny(
                            "entitlement",
                            f"agent {run.agent} does not own {tool.name}; delegate to its owner",
                        )
                    ]
                )
        return self.inner.check(run, tool, call, confidence=confidence)


def _tainted(parent: Run, args: dict[str, Any]) -> str | None:
    """A value of the delegation's arguments that reached the parent only as untrusted text."""
    index = ProvenanceIndex(parent)
    stack: list[Any] = [args]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif value is not None and not isinstance(value, bool):
            origin = untrusted_origin(index, value)
            if origin is not None:
                return origin[0]
    return None


def delegation_resolver(meshes: MeshLookup) -> Resolver:
    """Turns an allowed ``ask_<agent>`` call into the child run of that agent."""

    def resolve(parent: Run, call: CallRecord) -> list[ChildSpec]:
        mesh = meshes(parent)
        profile = mesh.by_ask_tool(call.tool) if mesh is not None else None
        if mesh is None or profile is None or parent.agent is None:
            raise ChildSpecError(f"{call.tool}: this run is not part of an agent mesh")
        if profile.name not in mesh.get(parent.agent).delegates:
            raise ChildSpecError(f"agent {parent.agent} may not delegate to {profile.name}")
        goal = call.args.get("goal")
        if not isinstance(goal, str) or not goal.strip():
            raise ChildSpecError(f"{call.tool}: a goal is required")
        grant = mesh.grant(profile.name)
        tainted = _tainted(parent, call.args)
        if tainted is not None:
            grant = grant.model_copy(update={"side_effects": ["read"]})
        context = call.args.get("context") or {}
        inputs = {"context": context, "delegated_by": parent.agent}
        if tainted is not None:
            inputs["tainted"] = f"{tainted} came from untrusted text: this delegation may read only"
        return [
            ChildSpec(
                goal=goal.strip(),
                inputs=inputs,
                agent=profile.name,
                cloud=profile.home_cloud,
                grant=grant,
                budget=profile.budget.to_budget(),
                planner=profile.planner,
            )
        ]

    return resolve


def is_ask_tool(name: str) -> bool:
    return name.startswith(ASK_PREFIX)
