"""A workflow: a named goal with its catalog, grant, policy and agents.

A run started from a workflow (``Run.scenario`` holds its name) takes its goal, tools, grant and
inputs from it; the guard applies the workflow's policy folder, the mesh its agent profiles.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.domain import Budget, Grant, Run
from core.errors import ConfigError


@dataclass(frozen=True)
class SpecDocument:
    """One spec of a workflow's catalog, parsed and with the operator's overlays applied."""

    source: str
    """Where it was read from (relative ``$ref``s and server URLs are read against it)."""
    document: Mapping[str, Any]
    vendor: bool = True
    """Written by someone other than the operator: its ``x-paddock-*`` labels may only tighten
    a tool (``vendor_labels``) and its descriptions reach the model as third-party text."""
    vendor_labels: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """The vendor's own ``x-paddock-*`` labels by operation (``"POST /orders"``), taken out of
    ``document`` before the overlays were applied."""


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
    budget: Budget | None = None
    """The limits of its runs (a request may only lower them); ``None``: the defaults."""
    inputs_schema: Mapping[str, Any] | None = None
    """JSON Schema of a run's inputs; the goal's ``{name}`` placeholders are filled from them."""
    documents: tuple[SpecDocument, ...] = ()
    """Specs already parsed and overlaid (a bundle's); ``specs`` then lists only the sources
    that are not documents (``mcp+stdio:`` / ``mcp+http:`` servers)."""
    version: str = ""
    """The content hash of the bundle it was loaded from ('' for a workflow built in code)."""
    source: str | None = None
    """The bundle folder it was loaded from."""
    approvals: Mapping[str, Any] = field(default_factory=dict)
    """Approval settings of its runs (``paddock.yaml`` ``approvals:``)."""

    @property
    def sources(self) -> list[str]:
        """Every catalog source: the documents' and the others, in order."""
        return [d.source for d in self.documents] + list(self.specs)


class WorkflowSet(Mapping[str, Workflow]):
    """The workflows of one process, by name, in the order they were given."""

    def __init__(
        self, workflows: Iterable[Workflow] = (), *, kept: Iterable[Workflow] = ()
    ) -> None:
        """``workflows`` are the current ones; ``kept`` older versions that runs started
        with may still resume on (never started anew)."""
        self._by_name: dict[str, Workflow] = {}
        self._versions: dict[tuple[str, str], Workflow] = {}
        for workflow in workflows:
            if workflow.name in self._by_name:
                raise ConfigError(f"two workflows are named {workflow.name!r}")
            self._by_name[workflow.name] = workflow
        for workflow in kept:
            self._versions.setdefault((workflow.name, workflow.version), workflow)

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

    def for_run(self, run: Run) -> Workflow | None:
        """The workflow (in the version it started with) a run belongs to; ``None`` for a run
        of no workflow.

        Raises:
            ConfigError: the workflow, or that version of it, is not loaded here; the message
                names both versions so an operator can redeploy the one the run needs.
        """
        name, version, run_id = run.scenario, run.workflow_version, run.id
        if name is None:
            return None
        current = self._by_name.get(name)
        if current is not None and (
            not version or not current.version or version == current.version
        ):
            return current
        older = self._versions.get((name, version or ""))
        if older is not None:
            return older
        who = f"run {run_id} " if run_id else "the run "
        if current is None:
            known = ", ".join(self._by_name) or "none"
            raise ConfigError(
                f"{who}belongs to workflow {name!r}, which is not deployed here (loaded: {known})"
            )
        raise ConfigError(
            f"{who}started with workflow {name!r} version {version}, which is gone: this "
            f"deployment has version {current.version}. Deploy that version beside the new one "
            "(docs/bundles.md, versions) to let the run finish, or cancel it"
        )

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
        return WorkflowSet(
            (updated if w.name == name else w for w in self._by_name.values()),
            kept=self._versions.values(),
        )
