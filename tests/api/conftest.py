"""Fixtures: see tests/api/world.py."""

from tests.api.world import _orders_server, issuer, operators, orders, world

__all__ = ["_orders_server", "issuer", "operators", "orders", "world"]
