from __future__ import annotations

from collections.abc import Iterator

import pytest

from examples.shipment_delay import ShipmentDelayServices
from tests.mesh.world import MeshWorld


@pytest.fixture(scope="module")
def running() -> Iterator[ShipmentDelayServices]:
    with ShipmentDelayServices() as services:
        yield services


@pytest.fixture()
def world(running: ShipmentDelayServices) -> MeshWorld:
    running.reset()
    return MeshWorld(services=running)
