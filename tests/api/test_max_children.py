"""``max_children`` on run creation, over real HTTP through the dev server: bounded, validated,
stored in the run's grant, where the orchestrator advancing the run reads it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from core.domain import Run
from paddock.dev.server import DevServer


@pytest.fixture(scope="module")
def dev() -> Iterator[DevServer]:
    with DevServer(backend="memory", env={}, workers=False) as server:
        yield server


@pytest.fixture(scope="module")
def client(dev: DevServer) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {dev.tokens()['TOKEN']}"}
    with httpx.Client(base_url=dev.url, headers=headers, timeout=30) as http:
        yield http


def _start(client: httpx.Client, adapter: str = "aws", **body: Any) -> httpx.Response:
    return client.post(f"/{adapter}/runs", json={"scenario": "supply-chain", **body})


def _run(dev: DevServer, response: httpx.Response) -> Run:
    assert response.status_code == 202, response.text
    return dev.deps["aws"].store.get_run(response.json()["run_id"], with_steps=False)


@pytest.mark.parametrize("adapter", ["aws", "azure"])
def test_max_children_reaches_the_runs_grant_and_offers_spawn_subtasks(
    dev: DevServer, client: httpx.Client, adapter: str
) -> None:
    run = _run(dev, _start(client, adapter, max_children=3))
    assert run.grant.max_children == 3
    assert run.grant.side_effects == ["read", "write"]  # the rest of the scenario's grant kept
    tools = dev.deps[adapter].orchestrator.catalogs(run)
    assert tools.find("spawn_subtasks") is not None


def test_omitted_or_zero_means_no_children(dev: DevServer, client: httpx.Client) -> None:
    for body in ({}, {"max_children": 0}):
        run = _run(dev, _start(client, **body))
        assert run.grant.max_children == 0
        assert dev.deps["aws"].orchestrator.catalogs(run).find("spawn_subtasks") is None


def test_the_scenarios_own_grant_is_not_changed_for_later_runs(
    dev: DevServer, client: httpx.Client
) -> None:
    _run(dev, _start(client, max_children=5))
    assert _run(dev, _start(client)).grant.max_children == 0


def test_a_mesh_agents_allowance_is_only_lowered(dev: DevServer, client: httpx.Client) -> None:
    own = _run(dev, _start(client, scenario="shipment-delay")).grant.max_children
    assert own > 0
    assert (
        _run(dev, _start(client, scenario="shipment-delay", max_children=100)).grant.max_children
        == own
    )
    assert (
        _run(dev, _start(client, scenario="shipment-delay", max_children=1)).grant.max_children == 1
    )


@pytest.mark.parametrize("value", [-1, 101, 10**12, 2.5, 3.0, "3", True, None, [1], {"n": 1}])
def test_bad_values_are_refused_by_name(dev: DevServer, client: httpx.Client, value: Any) -> None:
    before = len(dev.deps["aws"].store.list_runs(limit=100).runs)
    response = (
        _start(client, max_children=value)
        if value is not None
        else client.post(
            "/aws/runs",
            content=b'{"scenario": "supply-chain", "max_children": NaN}',
            headers={"Content-Type": "application/json"},
        )
    )
    assert 400 <= response.status_code < 500, response.text
    error = response.json()["error"]
    if value is None:  # NaN is not JSON
        assert (response.status_code, error["code"]) == (400, "malformed_json")
    else:
        assert (response.status_code, error["code"]) == (422, "validation_error")
        assert error["details"][0]["loc"] == ["body", "max_children"]
        assert error["message"].startswith("body.max_children:")
    assert len(dev.deps["aws"].store.list_runs(limit=100).runs) == before
