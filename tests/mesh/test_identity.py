"""The mesh with local identities: every call of the parent and of its children carries the
credential its API expects, and every shipment-delay service verifies it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from core.domain import RunStatus
from examples.shipment_delay import ShipmentDelayServices
from examples.shipment_delay.identity import local_verifiers
from paddock.local.identity import local_identity_bundle
from tests.mesh.world import MeshWorld, approve_all


@pytest.fixture()
def secured() -> Iterator[MeshWorld]:
    identity, local = local_identity_bundle()
    with ShipmentDelayServices(verify_auth=local_verifiers(local)) as services:
        yield MeshWorld(services=services, identity=identity)


def test_services_refuse_calls_without_credentials(secured: MeshWorld) -> None:
    urls = secured.services.by_key
    assert httpx.get(f"{urls['tracking']}/shipments/SH-4471").status_code == 401
    assert httpx.get(f"{urls['contracts']}/contracts").status_code == 401


def test_every_call_in_the_tree_is_authenticated_by_its_scheme(secured: MeshWorld) -> None:
    local = secured.local()
    root = local.start(secured.root())
    final = local.run_until_settled(root.id, decide=approve_all([]))
    assert final.status is RunStatus.SUCCEEDED, final.reason
    services = secured.services
    for key, service in services.services.items():
        assert service.requests, key
        assert all(r.status not in (None, 401) for r in service.requests), key
    for service in (services.tracking, services.tms):
        assert all(
            (r.authorization or "").startswith("AWS4-HMAC-SHA256 ") for r in service.requests
        )
    for service in (services.contracts, services.carriers):
        assert all((r.authorization or "").startswith("Bearer ey") for r in service.requests)
