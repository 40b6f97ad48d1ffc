"""Bundled scenarios: a goal, its specs, its local services, its grant and its policy."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from core.domain import Grant
from core.errors import ConfigError


class Services(Protocol):
    @property
    def base_urls(self) -> Mapping[str, str]:
        """Base URL by spec title."""
        ...


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    goal: str
    spec_paths: Callable[[], list[Path]]
    services: Callable[..., AbstractContextManager[Any]]
    """Starts the scenario's local services; accepts ``verify_auth=`` when ``local_auth`` is set."""
    grant: Grant
    policy_dir: Path | None = None
    inputs: dict[str, Any] = field(default_factory=dict)
    local_auth: Callable[[Any], Mapping[str, Any]] | None = None
    """Given a ``core.identity.local.LocalIdentity``: each service's credential check."""
    description: str = ""
    agents_dir: Path | None = None
    """Agent profiles (``*.yaml``) of the scenario's mesh, when it has one."""
    agent: str | None = None
    """The profile the demo run starts as (the orchestrating agent), when it has a mesh."""


def _supply_chain() -> Scenario:
    from core.scenarios import supply_chain as sc
    from core.scenarios.supply_chain.identity import local_verifiers

    return Scenario(
        name="supply-chain",
        title="Supply-chain recovery",
        goal=sc.GOAL,
        spec_paths=sc.spec_paths,
        services=sc.SupplyChainServices,
        local_auth=local_verifiers,
        # A sourcing agent reads and writes; it has no business deleting master data.
        grant=Grant(side_effects=["read", "write"]),
        policy_dir=Path(sc.__file__).parent / "policy",
        description="Stock-out of P-100 at DE01: find suppliers, check risk, quote, order.",
    )


def _shipment_delay() -> Scenario:
    from core.scenarios import shipment_delay as sd
    from core.scenarios.shipment_delay.identity import local_verifiers

    root = Path(sd.__file__).parent
    return Scenario(
        name="shipment-delay",
        title="Shipment-delay recovery",
        goal=sd.GOAL,
        spec_paths=sd.spec_paths,
        services=sd.ShipmentDelayServices,
        local_auth=local_verifiers,
        grant=Grant(side_effects=["read", "write"]),
        policy_dir=root / "policy",
        description="SH-4471 is 3 days late: contract terms from PDFs, alternative carriers "
        "in another region, an approved re-routing request.",
        agents_dir=root / "agents",
        agent="logistics_planning",
    )


_FACTORIES: dict[str, Callable[[], Scenario]] = {
    "supply-chain": _supply_chain,
    "shipment-delay": _shipment_delay,
}


def scenario_names() -> list[str]:
    return list(_FACTORIES)


def get_scenario(name: str) -> Scenario:
    factory = _FACTORIES.get(name)
    if factory is None:
        raise ConfigError(f"unknown scenario {name!r}: choose one of {', '.join(scenario_names())}")
    return factory()


def agent_dirs() -> dict[str, Path]:
    """Agent-profile folders by scenario name, for scenarios that ship a mesh."""
    return {
        name: scenario.agents_dir
        for name in _FACTORIES
        if (scenario := get_scenario(name)).agents_dir is not None
    }


def policy_dirs() -> dict[str, Path]:
    """Policy folders by scenario name, for those that ship one."""
    dirs: dict[str, Path] = {}
    for name in _FACTORIES:
        policy = get_scenario(name).policy_dir
        if policy is not None and policy.is_dir():
            dirs[name] = policy
    return dirs
