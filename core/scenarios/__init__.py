"""Bundled, runnable scenarios with their own specs, local services and policies."""

from core.scenarios.registry import Scenario, get_scenario, policy_dirs, scenario_names

__all__ = ["Scenario", "get_scenario", "policy_dirs", "scenario_names"]
