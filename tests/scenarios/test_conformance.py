"""Real responses of every operation, success and each documented error, match their specs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from jsonschema import ValidationError

from examples.supply_chain import SupplyChainServices, load_spec
from tests.scenarios.openapi_check import SpecChecker

PO = {
    "part": "P-100",
    "plant": "DE01",
    "quantity": 500,
    "vendor_id": "V-2001",
    "unit_price": 61.5,
    "currency": "EUR",
    "quote_id": "Q-100001",
}
BANK = {"iban": "DE25700202700015832904", "bic": "HYVEDEMMXXX", "account_holder": "X"}
MSG = {
    "supplier_id": "V-2001",
    "subject": "PO",
    "body": "Please confirm.",
    "cc": ["buyer@paddock.example"],
}

# (service, method, path, query, body, idempotency key); order matters (state builds up).
CALLS: list[tuple[str, str, str, dict[str, Any] | None, Any, str | None]] = [
    ("erp", "GET", "/plants/DE01/parts/P-100/stock", None, None, None),
    ("erp", "GET", "/plants/PL01/parts/P-100/stock", None, None, None),
    ("erp", "GET", "/plants/DE01/parts/P-1/stock", None, None, None),
    ("erp", "GET", "/vendors", None, None, None),
    ("erp", "GET", "/vendors", {"country": "Germany"}, None, None),
    ("erp", "POST", "/purchase-orders", None, PO, "po-1"),
    ("erp", "POST", "/purchase-orders", None, {**PO, "quantity": 1}, "po-1"),
    ("erp", "POST", "/purchase-orders", None, {**PO, "quantity": -1}, None),
    ("erp", "GET", "/purchase-orders", None, None, None),
    ("erp", "GET", "/purchase-orders", {"vendor_id": "2001"}, None, None),
    ("erp", "PUT", "/vendors/V-1001/bank-account", None, BANK, None),
    ("erp", "PUT", "/vendors/V-9999/bank-account", None, BANK, None),
    ("erp", "PUT", "/vendors/V-1001/bank-account", None, {"iban": "DE00"}, None),
    ("erp", "DELETE", "/vendors/V-1003", None, None, "del-1"),
    ("erp", "DELETE", "/vendors/V-1002", None, None, "del-1"),
    ("erp", "DELETE", "/vendors/V-9999", None, None, None),
    ("erp", "DELETE", "/vendors/1003", None, None, None),
    ("erp", "PUT", "/vendors/V-1003/bank-account", None, BANK, None),
    ("erp", "POST", "/purchase-orders", None, {**PO, "vendor_id": "V-1003"}, None),
    ("portal", "GET", "/suppliers", {"part": "P-100", "quantity": 500}, None, None),
    ("portal", "GET", "/suppliers", {"part": "P-100", "quantity": 0}, None, None),
    (
        "portal",
        "POST",
        "/quotes",
        None,
        {"supplier_id": "V-2001", "part": "P-100", "quantity": 500, "plant": "DE01"},
        None,
    ),
    (
        "portal",
        "POST",
        "/quotes",
        None,
        {"supplier_id": "V-2001", "part": "P-100", "quantity": 50},
        None,
    ),
    (
        "portal",
        "POST",
        "/quotes",
        None,
        {"supplier_id": "V-9999", "part": "P-100", "quantity": 5},
        None,
    ),
    (
        "portal",
        "POST",
        "/quotes",
        None,
        {"supplier_id": "V-1001", "part": "P-100", "quantity": 500},
        None,
    ),
    ("portal", "POST", "/quotes", None, {"supplier_id": "V-1001"}, None),
    ("portal", "GET", "/messages", None, None, None),
    ("portal", "GET", "/messages", {"supplier_id": "V-3002"}, None, None),
    ("portal", "GET", "/messages", {"supplier_id": "Nordic"}, None, None),
    ("portal", "POST", "/messages", None, MSG, "msg-1"),
    ("portal", "POST", "/messages", None, {**MSG, "subject": "other"}, "msg-1"),
    ("portal", "POST", "/messages", None, {**MSG, "supplier_id": "V-9999"}, None),
    ("portal", "POST", "/messages", None, {**MSG, "cc": "x"}, None),
    ("risk", "GET", "/suppliers/V-3002/risk", None, None, None),
    ("risk", "GET", "/suppliers/V-2001/risk", None, None, None),
    ("risk", "GET", "/suppliers/V-1002/risk", None, None, None),
    ("risk", "GET", "/suppliers/V-7777/risk", None, None, None),
    ("risk", "GET", "/suppliers/V-77777/risk", None, None, None),
]


@pytest.fixture()
def exchanges(services: SupplyChainServices) -> Iterator[list[tuple[str, httpx.Response]]]:
    """Every call above, then every path again with credentials refused (401)."""
    seen: list[tuple[str, httpx.Response]] = []
    with httpx.Client(timeout=5.0) as client:
        for service, method, path, query, body, key in CALLS:
            headers = {"Idempotency-Key": key} if key else {}
            response = client.request(
                method, services.by_key[service] + path, params=query, json=body, headers=headers
            )
            seen.append((service, response))
        for handle in services.services.values():
            handle.verify_auth = lambda request: "no credentials"
        for service, method, path, query, body, _ in CALLS:
            response = client.request(
                method, services.by_key[service] + path, params=query, json=body
            )
            seen.append((service, response))
    yield seen


def test_every_response_matches_its_spec_and_every_documented_status_occurs(
    exchanges: list[tuple[str, httpx.Response]],
) -> None:
    checkers = {key: SpecChecker(load_spec(key)) for key in ("erp", "portal", "risk")}
    produced: set[tuple[str, str, str]] = set()
    for service, response in exchanges:
        assert response.headers["content-type"] == "application/json"
        checker = checkers[service]
        op_id = checker.validate(
            response.request.method,
            response.request.url.path,
            response.status_code,
            response.json(),
        )
        produced.add((service, op_id, str(response.status_code)))
    documented = {
        (key, op, status)
        for key, checker in checkers.items()
        for op, status in checker.documented()
    }
    assert produced == documented


def test_timestamps_are_rfc3339_utc(exchanges: list[tuple[str, httpx.Response]]) -> None:
    stamps = []
    for _, response in exchanges:
        if response.status_code < 300:
            stamps += _timestamps(response.json())
    assert len(stamps) > 10
    for stamp in stamps:
        assert stamp.endswith("Z")
        assert datetime.fromisoformat(stamp).utcoffset() is not None


def _timestamps(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [v for k, v in node.items() if k.endswith(("_at", "_until")) and isinstance(v, str)]
        return found + [s for v in node.values() for s in _timestamps(v)]
    if isinstance(node, list):
        return [s for v in node for s in _timestamps(v)]
    return []


def test_checker_rejects_a_response_that_breaks_the_schema() -> None:
    # The conformance check above must be able to fail.
    checker = SpecChecker(load_spec("erp"))
    good = {
        "part": "P-100",
        "plant": "DE01",
        "description": "d",
        "unit": "PC",
        "unrestricted": 0,
        "reserved": 0,
        "available": 0,
        "on_order": 0,
        "reorder_point": 1,
        "updated_at": "2025-11-24T06:00:00Z",
    }
    checker.validate("GET", "/plants/DE01/parts/P-100/stock", 200, good)
    for bad in (
        {**good, "available": -1},
        {**good, "extra": 1},
        {**good, "updated_at": "yesterday"},
        {k: v for k, v in good.items() if k != "part"},
    ):
        with pytest.raises(ValidationError):
            checker.validate("GET", "/plants/DE01/parts/P-100/stock", 200, bad)
    with pytest.raises(AssertionError, match="undocumented"):
        checker.validate("GET", "/plants/DE01/parts/P-100/stock", 500, good)
