"""Fixtures: the API test world's token issuer and orders service (tests/api/world.py)."""

from tests.api.world import _orders_server, issuer, orders

__all__ = ["_orders_server", "issuer", "orders"]
