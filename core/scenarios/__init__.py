"""Bundled, runnable scenarios with their own specs, local services and policies."""

from core.scenarios.registry import (
    Scenario,
    agent_dirs,
    get_scenario,
    policy_dirs,
    scenario_names,
)

__all__ = ["Scenario", "agent_dirs", "get_scenario", "policy_dirs", "scenario_names"]
