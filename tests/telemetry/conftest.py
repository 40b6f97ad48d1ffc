"""Fixtures: the API world of tests/api (token issuer, orders service, memory store/queue)."""

from tests.api.world import _orders_server, issuer, operators, orders, world

__all__ = ["_orders_server", "issuer", "operators", "orders", "world"]
