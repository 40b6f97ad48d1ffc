"""A workflow: a named goal with its catalog, grant, policy and agents.

A run started from a workflow (``Run.scenario`` holds its name) takes its goal, tools, grant and
inputs from it; the guard applies the workflow's policy folder, the mesh its agent profiles.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.domain import Grant
from core.errors import ConfigError
from core.workflows.four_eyes import DEFAULT_FOUR_EYES, FourEyes


@dataclass(frozen=True)
class Workflow:
    """What a deployment runs under one name."""

    name: str
    goal: str
    """The default goal."""
    specs: tuple[str, ...]
    """Catalog sources (spec paths or URLs) the workflow's tools come from."""
    grant: Grant = field(default_factory=Grant)
    title: str = ""
    description: str = ""
    inputs: Mapping[str, Any] = field(default_factory=dict)
    """Inputs every run of the workflow starts with (a request's own inputs win)."""
    base_urls: Mapping[str, str] = field(default_factory=dict)
    """Base URL overrides by spec title: where the workflow's services answer here."""
    policy_dir: Path | None = None
    """Cedar policies (``*.cedar`` + ``policy.yaml``) every call of its runs is checked with;
    ``None``: the default policy."""
    agents_dir: Path | None = None
    """Agent profiles (``*.yaml``) of the workflow's mesh, when it is one."""
    agent: str | None = None
    """The profile a run starts as (the orchestrating agent), when it is a mesh."""
    four_eyes: FourEyes = DEFAULT_FOUR_EYES
    """Which held calls the run's requester may not approve (``core.workflows.four_eyes``)."""


class WorkflowSet(Mapping[str, Workflow]):
    """The workflows of one process, by name, in the order they were given."""

    def __init__(self, workflows: Iterable[Workflow] = ()) -> None:
        self._by_name: dict[str, Workflow] = {}
        for workflow in workflows:
            if workflow.name in self._by_name:
                raise ConfigError(f"two workflows are named {workflow.name!r}")
            self._by_name[workflow.name] = workflow

    def __getitem__(self, name: str) -> Workflow:
        return self._by_name[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_name)

    def __len__(self) -> int:
        return len(self._by_name)

    def names(self) -> list[str]:
        return list(self._by_name)

    def get_workflow(self, name: str) -> Workflow:
        """The workflow ``name``; ``ConfigError`` naming the known ones when there is none."""
        found = self._by_name.get(name)
        if found is None:
            known = ", ".join(self._by_name) or "none are loaded"
            raise ConfigError(f"unknown workflow {name!r}: choose one of {known}")
        return found

    def policy_dirs(self) -> dict[str, Path]:
        """Policy folders by workflow name, for those that have one."""
        return {w.name: w.policy_dir for w in self._by_name.values() if w.policy_dir is not None}

    def agent_dirs(self) -> dict[str, Path]:
        """Agent-profile folders by workflow name, for the meshes."""
        return {w.name: w.agents_dir for w in self._by_name.values() if w.agents_dir is not None}

    def with_base_urls(self, name: str, base_urls: Mapping[str, str]) -> WorkflowSet:
        """A copy where workflow ``name`` reaches its services at ``base_urls``."""
        from dataclasses import replace

        updated = replace(self.get_workflow(name), base_urls=dict(base_urls))
        return WorkflowSet(updated if w.name == name else w for w in self._by_name.values())
