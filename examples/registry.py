"""The example workflows: each a workflow (goal, specs, grant, policy, agents) plus what runs it
on a developer's machine — its local services, their credential checks and the offline rule
planner's script."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.domain import Grant
from core.errors import ConfigError
from core.planner.rules import RuleScript
from core.workflows import Workflow, WorkflowSet


@dataclass(frozen=True)
class Example:
    workflow: Workflow
    services: Callable[..., AbstractContextManager[Any]]
    """Starts the example's local services; accepts ``verify_auth=`` (see ``local_auth``)."""
    rules: RuleScript
    """The offline rule planner's script for this workflow."""
    local_auth: Callable[[Any], Mapping[str, Any]] | None = None
    """Given a ``paddock.local.identity.LocalIdentity``: each service's credential check."""

    @property
    def name(self) -> str:
        return self.workflow.name

    @property
    def title(self) -> str:
        return self.workflow.title

    @property
    def goal(self) -> str:
        return self.workflow.goal

    @property
    def grant(self) -> Grant:
        return self.workflow.grant

    @property
    def inputs(self) -> Mapping[str, Any]:
        return self.workflow.inputs

    @property
    def description(self) -> str:
        return self.workflow.description

    @property
    def policy_dir(self) -> Path | None:
        return self.workflow.policy_dir

    @property
    def agents_dir(self) -> Path | None:
        return self.workflow.agents_dir

    @property
    def agent(self) -> str | None:
        return self.workflow.agent

    def spec_paths(self) -> list[Path]:
        return [Path(s) for s in self.workflow.sources]


@functools.cache
def _bundle(package: str) -> Workflow:
    """The example's bundle, loaded once per process (a workflow is immutable)."""
    from importlib import import_module

    from core.bundles import load_bundle

    module = import_module(package)
    return load_bundle(Path(str(module.__file__)).parent)


def _supply_chain() -> Example:
    from examples.supply_chain import SupplyChainServices
    from examples.supply_chain.identity import local_verifiers
    from examples.supply_chain.rules import next_move

    workflow = _bundle("examples.supply_chain")
    return Example(workflow, SupplyChainServices, next_move, local_auth=local_verifiers)


def _shipment_delay() -> Example:
    from examples.shipment_delay import ShipmentDelayServices
    from examples.shipment_delay.identity import local_verifiers
    from examples.shipment_delay.rules import next_move

    workflow = _bundle("examples.shipment_delay")
    return Example(workflow, ShipmentDelayServices, next_move, local_auth=local_verifiers)


_FACTORIES: dict[str, Callable[[], Example]] = {
    "supply-chain": _supply_chain,
    "shipment-delay": _shipment_delay,
}


def example_names() -> list[str]:
    return list(_FACTORIES)


def get_example(name: str) -> Example:
    factory = _FACTORIES.get(name)
    if factory is None:
        raise ConfigError(f"unknown scenario {name!r}: choose one of {', '.join(example_names())}")
    return factory()


def example_workflows() -> WorkflowSet:
    """Every example as a workflow (their services' base URLs not set: they are not running)."""
    return WorkflowSet(get_example(name).workflow for name in _FACTORIES)


def rule_scripts() -> dict[str, RuleScript]:
    """The offline rule planner's script of each example, by workflow name."""
    return {name: get_example(name).rules for name in _FACTORIES}
