"""Fixtures: the scenario's real catalog (from its spec files), its policy, run builders."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.catalog import Catalog
from core.domain import Tool
from core.guardrails import PolicyGuard, PolicySet, load_policy_set
from examples.supply_chain import spec_paths

POLICY_DIR = Path(__file__).resolve().parents[2] / "examples/supply_chain/policy"


@pytest.fixture(scope="session")
def catalog_tools() -> list[Tool]:
    return Catalog.from_sources([str(p) for p in spec_paths()]).tools


@pytest.fixture(scope="session")
def tools(catalog_tools: list[Tool]) -> dict[str, Tool]:
    return {t.name: t for t in catalog_tools}


@pytest.fixture(scope="session")
def scenario_policy(catalog_tools: list[Tool]) -> PolicySet:
    return load_policy_set(POLICY_DIR, catalog_tools)


@pytest.fixture(scope="session")
def guard(scenario_policy: PolicySet) -> PolicyGuard:
    """The scenario's guard: its Cedar policy plus the built-in stages."""
    return PolicyGuard(policies=scenario_policy)


@pytest.fixture(scope="session")
def default_guard() -> PolicyGuard:
    """The guard without a policy file: the default policy."""
    return PolicyGuard()
