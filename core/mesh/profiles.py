"""Agent profiles: small domain agents declared as data (YAML, validated by pydantic).

A profile names the agent, says what its domain is, which catalog tools it owns, where it
runs (its home cloud), what it may do (side effects), which other agents it may delegate to,
its planner and its budget. A delegating agent sees each delegate as one tool,
``ask_<name>(goal, context)``; see :mod:`core.mesh.delegation`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from core.domain import Budget, Grant, Run
from core.errors import ConfigError

ASK_PREFIX = "ask_"
_NAME = re.compile(r"^[a-z][a-z0-9_]{1,40}$")


class ProfileBudget(BaseModel):
    """An agent's own limits; a delegation also stays within what its parent has left."""

    model_config = ConfigDict(extra="forbid")

    max_steps: int = Field(default=10, ge=1, le=200)
    max_tool_calls: int | None = Field(default=20, ge=1)
    max_tokens: int | None = Field(default=None, ge=1)
    max_cost_usd: float | None = Field(default=None, ge=0)
    max_wall_seconds: float | None = Field(default=None, gt=0)

    def to_budget(self) -> Budget:
        return Budget(
            max_steps=self.max_steps,
            max_tool_calls=self.max_tool_calls,
            max_tokens=self.max_tokens,
            max_cost_usd=self.max_cost_usd,
            max_wall_seconds=self.max_wall_seconds,
        )


class AgentProfile(BaseModel):
    """One domain agent."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    """Lower-case id (``carrier_relations``); the delegation tool is ``ask_<name>``."""
    title: str = Field(min_length=1, max_length=80)
    """Display name (``Carrier Relations``)."""
    domain: str = Field(min_length=10, max_length=1000)
    """What the agent knows and does; the delegating agent reads it as the tool's description."""
    home_cloud: Literal["aws", "azure", "local"]
    """Where the agent's runs execute (whose queue a delegation goes to)."""
    tools: tuple[str, ...] = Field(min_length=1)
    """The catalog tools the agent owns: the only catalog tools it sees."""
    delegates: tuple[str, ...] = ()
    """Agents it may ask; each appears to it as ``ask_<name>``."""
    side_effects: tuple[Literal["read", "write", "destructive"], ...] = ("read",)
    """What its own calls may do (the grant's side effects)."""
    planner: str | None = None
    """``rules``, ``openai``, ``azure-openai``, ``bedrock`` or ``anthropic``; ``None``: the
    delegating run's planner."""
    model: str | None = None
    """The model deployment, for documentation and cost reports (the planner's env picks it)."""
    budget: ProfileBudget = Field(default_factory=ProfileBudget)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.fullmatch(value):
            raise ValueError(
                "must be lower case letters, digits and underscores, 2-41 long, "
                "starting with a letter"
            )
        return value

    @property
    def ask_tool(self) -> str:
        return ASK_PREFIX + self.name


class AgentMesh:
    """The profiles of one scenario, checked against each other and against the catalog."""

    def __init__(self, profiles: Iterable[AgentProfile], *, source: str = "<profiles>") -> None:
        self.source = source
        self.profiles: dict[str, AgentProfile] = {}
        for profile in profiles:
            if profile.name in self.profiles:
                raise ConfigError(f"{source}: agent {profile.name!r} is declared twice")
            self.profiles[profile.name] = profile
        for profile in self.profiles.values():
            for name in profile.delegates:
                if name == profile.name:
                    raise ConfigError(f"{source}: agent {name!r} cannot delegate to itself")
                if name not in self.profiles:
                    raise ConfigError(
                        f"{source}: agent {profile.name!r} delegates to unknown agent {name!r}"
                    )
        self._check_acyclic()

    def _check_acyclic(self) -> None:
        def visit(name: str, path: tuple[str, ...]) -> None:
            if name in path:
                raise ConfigError(f"{self.source}: delegation cycle {' -> '.join((*path, name))}")
            for nxt in self.profiles[name].delegates:
                visit(nxt, (*path, name))

        for name in self.profiles:
            visit(name, ())

    def get(self, name: str) -> AgentProfile:
        found = self.profiles.get(name)
        if found is None:
            raise ConfigError(
                f"unknown agent {name!r}: choose one of {', '.join(sorted(self.profiles))}"
            )
        return found

    def by_ask_tool(self, tool: str) -> AgentProfile | None:
        if not tool.startswith(ASK_PREFIX):
            return None
        return self.profiles.get(tool[len(ASK_PREFIX) :])

    def reach(self, name: str) -> list[AgentProfile]:
        """The agent and every agent it can reach by delegation, the agent first."""
        seen: dict[str, AgentProfile] = {}
        todo = [name]
        while todo:
            current = self.get(todo.pop(0))
            if current.name not in seen:
                seen[current.name] = current
                todo.extend(current.delegates)
        return list(seen.values())

    def grant(self, name: str) -> Grant:
        """The grant a run of this agent starts with: its own tools and delegation tools, plus
        everything its delegates may use (a child's grant is intersected with its parent's,
        so the parent's must cover what it delegates), and one child per delegation level."""
        reach = self.reach(name)
        tools = [t for p in reach for t in (*p.tools, *(self.get(d).ask_tool for d in p.delegates))]
        effects = [
            e for e in ("read", "write", "destructive") if any(e in p.side_effects for p in reach)
        ]
        depth = self._depth(name)
        return Grant(
            tools=list(dict.fromkeys(tools)), side_effects=effects, max_children=20 * depth
        )

    def _depth(self, name: str) -> int:
        delegates = self.get(name).delegates
        return 0 if not delegates else 1 + max(self._depth(d) for d in delegates)

    def check_tools(self, catalog_tools: Sequence[str]) -> None:
        """Every owned tool must be in the catalog; raises ``ConfigError`` naming the first
        that is not."""
        known = set(catalog_tools)
        for profile in self.profiles.values():
            missing = [t for t in profile.tools if t not in known]
            if missing:
                raise ConfigError(
                    f"{self.source}: agent {profile.name!r} owns tools that are "
                    f"not in the catalog: {', '.join(missing)}"
                )


def load_profile(path: Path) -> AgentProfile:
    """One profile file; raises ``ConfigError`` with the file name and the first problem."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        where = ""
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            where = f" (line {mark.line + 1}, column {mark.column + 1})"
        why = getattr(exc, "problem", None) or " ".join(str(exc).split())
        raise ConfigError(f"cannot read agent profile {path.name}{where}: {why}") from exc
    if not isinstance(data, Mapping):
        raise ConfigError(f"agent profile {path.name}: expected a mapping")
    try:
        return AgentProfile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise ConfigError(f"agent profile {path.name}: {where}: {first['msg']}") from None


def load_mesh(directory: Path) -> AgentMesh:
    """Every ``*.yaml`` profile in ``directory`` (sorted by file name)."""
    if not directory.is_dir():
        raise ConfigError(f"no agent profiles at {directory}")
    paths = sorted(directory.glob("*.yaml"))
    if not paths:
        raise ConfigError(f"no agent profiles (*.yaml) in {directory}")
    return AgentMesh([load_profile(p) for p in paths], source=directory.name)


def act_as(run: Run, mesh: AgentMesh, agent: str) -> Run:
    """``run`` set up to act as ``agent``: its grant, and its budget within the run's own."""
    profile = mesh.get(agent)
    own = profile.budget.to_budget()
    limits = run.budget
    run.agent = profile.name
    run.grant = mesh.grant(profile.name)
    run.budget = own.model_copy(
        update={
            "max_steps": min(own.max_steps, limits.max_steps),
            "max_tool_calls": _least(own.max_tool_calls, limits.max_tool_calls),
            "max_tokens": _least(own.max_tokens, limits.max_tokens),
            "max_cost_usd": _least(own.max_cost_usd, limits.max_cost_usd),
            "max_wall_seconds": _least(own.max_wall_seconds, limits.max_wall_seconds),
        }
    )
    return run


def _least(a: float | None, b: float | None) -> Any:
    if a is None:
        return b
    return a if b is None else min(a, b)
