"""A run started from a mesh scenario acts as the scenario's orchestrating agent."""

from __future__ import annotations

from tests.api.world import World


def test_mesh_scenario_run_starts_as_its_orchestrating_agent(world: World) -> None:
    response = world.request(
        "POST",
        "/runs",
        body={"scenario": "shipment-delay", "llm": "rules", "budget": {"max_steps": 4}},
    )
    assert response.status == 202
    run = world.store.get_run(response.json()["run_id"])
    assert run.agent == "logistics_planning"
    assert "ask_contracts" in (run.grant.tools or [])
    assert "create_reroute_request" in (run.grant.tools or [])
    assert run.grant.max_children > 0
    assert run.budget.max_steps == 4  # the caller's limit wins when it is tighter
