from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from examples.supply_chain import SupplyChainServices


@pytest.fixture(scope="session")
def running() -> Iterator[SupplyChainServices]:
    with SupplyChainServices() as services:
        yield services


@pytest.fixture()
def services(running: SupplyChainServices) -> Iterator[SupplyChainServices]:
    """The running services, reset to the seed data, with no credential checks."""
    running.reset()
    yield running
    for service in running.services.values():
        service.verify_auth = None


def _client(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, timeout=5.0)


@pytest.fixture()
def erp(services: SupplyChainServices) -> Iterator[httpx.Client]:
    with _client(services.by_key["erp"]) as client:
        yield client


@pytest.fixture()
def portal(services: SupplyChainServices) -> Iterator[httpx.Client]:
    with _client(services.by_key["portal"]) as client:
        yield client


@pytest.fixture()
def risk(services: SupplyChainServices) -> Iterator[httpx.Client]:
    with _client(services.by_key["risk"]) as client:
        yield client
