"""The dev server end to end over real HTTP: the supply-chain run started on /aws, watched and
approved on /azure, advanced by both clouds' queue workers until it succeeds."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from paddock.dev.server import DevServer


@pytest.fixture(params=["memory", pytest.param("emulators", marks=pytest.mark.emulators)])
def dev(request: pytest.FixtureRequest) -> Iterator[DevServer]:
    env: dict[str, str] = {}
    if request.param == "emulators":
        env = dict(request.getfixturevalue("emulators"))
        request.getfixturevalue("moto_endpoint")  # fake AWS credentials in the environment
    with DevServer(backend=request.param, env=env, poll_seconds=0.05) as server:
        yield server


def _wait(
    client: httpx.Client,
    path: str,
    headers: dict[str, str],
    done: tuple[str, ...],
    timeout: float = 60.0,
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        view: dict[str, Any] = client.get(path, headers=headers).json()
        if view["status"] in done:
            return view
        assert time.monotonic() < deadline, f"run stuck in {view['status']}"
        time.sleep(0.1)


def test_supply_chain_run_completes_through_both_adapters(dev: DevServer) -> None:
    tokens = dev.tokens()
    alice = {"Authorization": f"Bearer {tokens['TOKEN']}"}
    bob = {"Authorization": f"Bearer {tokens['APPROVER']}"}
    with httpx.Client(base_url=dev.url, timeout=30) as client:
        started = client.post(
            "/aws/runs",
            json={"scenario": "supply-chain"},
            headers={**alice, "Idempotency-Key": "dev-e2e"},
        )
        assert started.status_code == 202, started.text
        run_id = started.json()["run_id"]
        path = f"/azure/runs/{run_id}"
        decided = 0
        while True:
            view = _wait(
                client, path, alice, ("awaiting_approval", "succeeded", "failed", "killed")
            )
            if view["status"] != "awaiting_approval":
                break
            inbox = client.get("/aws/approvals", headers=bob).json()["approvals"]
            for approval in [a for a in inbox if a["run_id"] == run_id]:
                response = client.post(
                    f"/azure/runs/{run_id}/approvals/{approval['id']}",
                    headers=bob,
                    json={
                        "decision": "approve",
                        "comment": "ok",
                        "args_hash": approval["args_hash"],
                    },
                )
                assert response.status_code == 200, response.text
                decided += 1
            assert decided < 10
    assert view["status"] == "succeeded", (view["reason"], view["error"])
    assert decided >= 1  # the 30,750 EUR order is above the approval threshold
    workers = {c["worker"] for s in view["steps"] for c in s["calls"] if c["executed"]}
    assert {"aws", "azure"} <= workers  # the run crossed clouds
    assert view["requested_by"] == "alice@acme.example"
