"""Every write honours Idempotency-Key: a replay answers the same and creates nothing."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from examples.supply_chain import SupplyChainServices

PO = {
    "part": "P-100",
    "plant": "DE01",
    "quantity": 500,
    "vendor_id": "V-2001",
    "unit_price": 61.5,
    "currency": "EUR",
    "quote_id": "Q-100001",
}
QUOTE = {"supplier_id": "V-2001", "part": "P-100", "quantity": 500, "plant": "DE01"}
MESSAGE = {"supplier_id": "V-2001", "subject": "PO 4500000001", "body": "Please confirm."}

# (service, method, path, body, the counter that must not move on replay)
WRITES = [
    ("erp", "POST", "/purchase-orders", PO, "purchase_orders"),
    ("erp", "DELETE", "/vendors/V-1003", None, "vendor_deletions"),
    (
        "erp",
        "PUT",
        "/vendors/V-1001/bank-account",
        {"iban": "DE25700202700015832904", "bic": "HYVEDEMMXXX"},
        "bank_changes",
    ),
    ("portal", "POST", "/quotes", QUOTE, "quotes"),
    ("portal", "POST", "/messages", MESSAGE, "sent_messages"),
]


def send(
    services: SupplyChainServices, service: str, method: str, path: str, body: Any, key: str | None
) -> httpx.Response:
    headers = {"Idempotency-Key": key} if key else {}
    return httpx.request(
        method, services.by_key[service] + path, json=body, headers=headers, timeout=5.0
    )


@pytest.mark.parametrize(("service", "method", "path", "body", "counter"), WRITES)
def test_replay_returns_the_first_response_and_creates_nothing(
    services: SupplyChainServices, service: str, method: str, path: str, body: Any, counter: str
) -> None:
    first = send(services, service, method, path, body, "run-1:step-3:0")
    replay = send(services, service, method, path, body, "run-1:step-3:0")
    assert first.status_code in (200, 201)
    assert replay.status_code == first.status_code
    assert replay.json() == first.json()
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert services.services[service].counts[counter] == 1
    assert [r.replayed for r in services.services[service].requests] == [False, True]


def test_without_a_key_each_post_creates_a_record(services: SupplyChainServices) -> None:
    numbers = [
        send(services, "erp", "POST", "/purchase-orders", PO, None).json()["po_number"]
        for _ in range(2)
    ]
    assert numbers == ["4500000001", "4500000002"]
    assert services.erp.counts["purchase_orders"] == 2


def test_distinct_keys_create_distinct_records(services: SupplyChainServices) -> None:
    a = send(services, "portal", "POST", "/quotes", QUOTE, "k-a").json()
    b = send(services, "portal", "POST", "/quotes", QUOTE, "k-b").json()
    assert a["quote_id"] != b["quote_id"]
    assert services.portal.counts["quotes"] == 2


def test_same_key_with_other_arguments_is_409_and_creates_nothing(
    services: SupplyChainServices,
) -> None:
    assert send(services, "erp", "POST", "/purchase-orders", PO, "k-1").status_code == 201
    changed = send(services, "erp", "POST", "/purchase-orders", {**PO, "quantity": 5000}, "k-1")
    assert changed.status_code == 409
    assert changed.json()["error"] == "idempotency_key_reused"
    assert [o["quantity"] for o in services.erp.purchase_orders] == [500]


def test_key_order_and_whitespace_do_not_change_the_fingerprint(
    services: SupplyChainServices,
) -> None:
    url = services.by_key["erp"] + "/purchase-orders"
    compact = httpx.post(url, json=PO, headers={"Idempotency-Key": "k-2"})
    spaced = httpx.post(
        url,
        content=b'{ "currency": "EUR", "unit_price": 61.5, "part": "P-100",'
        b' "plant": "DE01", "quantity": 500, "vendor_id": "V-2001",'
        b' "quote_id": "Q-100001" }',
        headers={"Idempotency-Key": "k-2", "content-type": "application/json"},
    )
    assert spaced.status_code == 201
    assert spaced.json() == compact.json()
    assert services.erp.counts["purchase_orders"] == 1


def test_a_failed_write_is_not_remembered(services: SupplyChainServices) -> None:
    erp = services.by_key["erp"]
    httpx.delete(erp + "/vendors/V-2001")
    refused = send(services, "erp", "POST", "/purchase-orders", PO, "k-3")
    assert refused.status_code == 409
    services.erp.reset()  # the vendor is back; the same key may now succeed
    assert send(services, "erp", "POST", "/purchase-orders", PO, "k-3").status_code == 201


def test_oversized_key_is_422(services: SupplyChainServices) -> None:
    response = send(services, "portal", "POST", "/quotes", QUOTE, "k" * 256)
    assert response.status_code == 422
    assert response.json()["details"][-1]["location"] == "header.Idempotency-Key"


def test_concurrent_replays_create_one_record(services: SupplyChainServices) -> None:
    def post(_: int) -> httpx.Response:
        return send(services, "erp", "POST", "/purchase-orders", PO, "crash-retry")

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(post, range(16)))
    assert {r.json()["po_number"] for r in responses} == {"4500000001"}
    assert services.erp.counts["purchase_orders"] == 1
    assert sum(not r.replayed for r in services.erp.requests) == 1


def test_reset_forgets_keys(services: SupplyChainServices) -> None:
    send(services, "portal", "POST", "/messages", MESSAGE, "k-4")
    services.reset()
    again = send(services, "portal", "POST", "/messages", MESSAGE, "k-4")
    assert "Idempotent-Replayed" not in again.headers
    assert services.portal.counts["sent_messages"] == 1
