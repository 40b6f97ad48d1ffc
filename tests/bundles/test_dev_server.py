"""The procurement bundle through ``scripts/dev`` over HTTP, on both adapters and (with the
emulators) through both clouds' queue workers: the same decisions as ``paddock run --bundle``."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from paddock.dev.server import DevServer
from tests.bundles.procurement import (
    BUNDLE,
    TITLE,
    ProcurementService,
    buyer_model,
    procurement_service,
)

DONE = ("awaiting_approval", "succeeded", "failed", "killed", "needs_review")


@pytest.fixture(params=["memory", pytest.param("emulators", marks=pytest.mark.emulators)])
def dev(request: pytest.FixtureRequest) -> Iterator[tuple[DevServer, ProcurementService]]:
    env: dict[str, str] = {}
    if request.param == "emulators":
        env = dict(request.getfixturevalue("emulators"))
        request.getfixturevalue("moto_endpoint")
    with buyer_model() as model, procurement_service() as (service, url):
        env |= {"OPENAI_BASE_URL": f"{model.url}/v1", "OPENAI_API_KEY": "sk-test"}
        with DevServer(
            backend=request.param,
            env=env,
            poll_seconds=0.05,
            bundles=[BUNDLE],
            base_urls={"procurement": {TITLE: url}},
        ) as server:
            yield server, service


def _wait(client: httpx.Client, path: str, headers: dict[str, str]) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        view: dict[str, Any] = client.get(path, headers=headers).json()
        if view["status"] in DONE:
            return view
        assert time.monotonic() < deadline, f"run stuck in {view['status']}"
        time.sleep(0.1)


def _start(client: httpx.Client, cloud: str, headers: dict[str, str], **body: Any) -> str:
    body = {"workflow": "procurement", "llm": "openai", **body}
    started = client.post(f"/{cloud}/runs", json=body, headers=headers)
    assert started.status_code == 202, started.text
    return str(started.json()["run_id"])


def test_the_bundle_decides_the_same_on_both_adapters(
    dev: tuple[DevServer, ProcurementService],
) -> None:
    server, service = dev
    tokens = server.tokens()
    alice = {"Authorization": f"Bearer {tokens['TOKEN']}"}
    bob = {"Authorization": f"Bearer {tokens['APPROVER']}"}
    with httpx.Client(base_url=server.url, timeout=30) as client:
        listed = client.get("/azure/workflows", headers=alice).json()["workflows"]
        procurement = next(w for w in listed if w["name"] == "procurement")
        assert procurement["version"] and procurement["inputs_schema"]["required"]

        small = _start(client, "aws", alice, inputs={"part": "P-1", "quantity": 250})
        large = _start(client, "azure", alice, inputs={"part": "P-1", "quantity": 500})
        delete = _start(
            client,
            "aws",
            alice,
            inputs={"part": "P-1", "quantity": 1},
            goal="Delete purchase order PO-7",
        )

        view = _wait(client, f"/azure/runs/{small}", alice)
        assert view["status"] == "succeeded", view
        assert view["workflow"] == "procurement" and view["workflow_version"]

        view = _wait(client, f"/aws/runs/{large}", alice)
        assert view["status"] == "awaiting_approval"
        (approval,) = view["pending_approvals"]
        assert "large_purchase_order" in approval["rule_ids"]
        rejected = client.post(
            f"/aws/runs/{large}/approvals/{approval['id']}",
            headers=bob,
            json={"decision": "reject", "comment": "too much"},
        )
        assert rejected.status_code == 200, rejected.text

        view = _wait(client, f"/azure/runs/{delete}", alice)
        calls = [c for s in view["steps"] for c in s["calls"]]
        assert [c["tool"] for c in calls] == ["delete_purchase_order"]
        assert calls[0]["decision"]["verdict"] == "deny" and not calls[0]["executed"]

        unknown = client.post("/aws/runs", json={"workflow": "invoicing"}, headers=alice)
        assert unknown.status_code == 422 and "invoicing" in unknown.text
        wrong = client.post(
            "/aws/runs",
            json={"workflow": "procurement", "inputs": {"part": "P-1", "quantity": "many"}},
            headers=alice,
        )
        assert wrong.status_code == 422 and "quantity" in wrong.text

    time.sleep(0.5)  # let the rejected run's last step settle before counting
    assert [o["total_eur"] for o in service.orders()] == [6250]
    assert service.deletes() == []
