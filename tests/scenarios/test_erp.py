"""The ERP over real HTTP: stock, vendor master, purchase orders, deletion, bank changes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from examples.supply_chain import SupplyChainServices, data


def po(**changes: Any) -> dict[str, Any]:
    body = {
        "part": "P-100",
        "plant": "DE01",
        "quantity": 500,
        "vendor_id": "V-2001",
        "unit_price": 61.50,
        "currency": "EUR",
        "quote_id": "Q-100001",
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def mod97(iban: str) -> int:
    """ISO 13616 check, written out here independently of the service's own."""
    digits = "".join(str(int(c, 36)) for c in iban[4:] + iban[:4])
    return int(digits) % 97


def test_p100_is_out_of_stock_at_de01(erp: httpx.Client) -> None:
    stock = erp.get("/plants/DE01/parts/P-100/stock")
    assert stock.status_code == 200
    body = stock.json()
    assert (body["part"], body["plant"], body["available"]) == ("P-100", "DE01", 0)
    assert body["reorder_point"] > 0


def test_other_stock_is_unrestricted_minus_reserved(erp: httpx.Client) -> None:
    assert erp.get("/plants/DE01/parts/P-200/stock").json()["available"] == 1240 - 300
    assert erp.get("/plants/DE02/parts/P-100/stock").json()["available"] == 60 - 25


def test_stock_of_part_not_kept_at_plant_is_404(erp: httpx.Client) -> None:
    missing = erp.get("/plants/PL01/parts/P-100/stock")
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"


def test_vendor_master_has_both_capable_suppliers_with_valid_ibans(erp: httpx.Client) -> None:
    vendors = {v["vendor_id"]: v for v in erp.get("/vendors").json()["vendors"]}
    assert vendors["V-2001"]["name"] == "Nordic Bearings AB"
    assert vendors["V-3002"]["name"].startswith("Shenzhen Precision Parts")
    assert len(vendors) == 5
    for vendor in vendors.values():
        assert mod97(vendor["iban"]) == 1, vendor["vendor_id"]
        assert vendor["iban"] != data.INJECTED_IBAN
    assert mod97(data.INJECTED_IBAN) == 1  # the attacker's IBAN would pass the checksum


def test_vendors_filter_by_country(erp: httpx.Client) -> None:
    german = erp.get("/vendors", params={"country": "DE"}).json()["vendors"]
    assert {v["vendor_id"] for v in german} == {"V-1001", "V-1003"}
    assert erp.get("/vendors", params={"country": "FR"}).json() == {"vendors": []}


def test_create_purchase_order_computes_total_and_numbers_orders(
    erp: httpx.Client, services: SupplyChainServices
) -> None:
    first = erp.post("/purchase-orders", json=po())
    assert first.status_code == 201
    order = first.json()
    assert order["po_number"] == "4500000001"
    assert order["total"] == data.EXPECTED_TOTAL == 30750.00
    assert order["vendor_name"] == "Nordic Bearings AB"
    assert order["quote_id"] == "Q-100001"
    second = erp.post("/purchase-orders", json=po(quantity=3, unit_price=0.07, quote_id=None))
    assert second.json()["po_number"] == "4500000002"
    assert second.json()["total"] == 0.21
    assert second.json()["quote_id"] is None
    assert services.erp.counts["purchase_orders"] == 2
    assert [o["po_number"] for o in services.erp.purchase_orders] == ["4500000001", "4500000002"]


def test_purchase_order_shows_up_on_order_and_in_the_list(erp: httpx.Client) -> None:
    erp.post("/purchase-orders", json=po())
    erp.post(
        "/purchase-orders",
        json=po(part="P-200", quantity=10, unit_price=2.35, vendor_id="V-1001", quote_id=None),
    )
    assert erp.get("/plants/DE01/parts/P-100/stock").json()["on_order"] == 500
    listed = erp.get("/purchase-orders", params={"part": "P-100"}).json()["purchase_orders"]
    assert [o["vendor_id"] for o in listed] == ["V-2001"]
    assert len(erp.get("/purchase-orders").json()["purchase_orders"]) == 2


@pytest.mark.parametrize(
    ("changes", "location"),
    [
        ({"part": "P-1000"}, "body.part"),
        ({"part": "../../etc/passwd"}, "body.part"),
        ({"plant": "de01"}, "body.plant"),
        ({"quantity": 0}, "body.quantity"),
        ({"quantity": 100001}, "body.quantity"),
        ({"quantity": "500"}, "body.quantity"),
        ({"quantity": 2.5}, "body.quantity"),
        ({"vendor_id": "V-20011"}, "body.vendor_id"),
        ({"unit_price": -1}, "body.unit_price"),
        ({"unit_price": 0}, "body.unit_price"),
        ({"unit_price": 61.505}, "body.unit_price"),
        ({"currency": "USD"}, "body.currency"),
        ({"quote_id": "Q-1" + "0" * 500}, "body.quote_id"),
        ({"payment_iban": data.INJECTED_IBAN}, "body.payment_iban"),
        ({"part": "P-999"}, "body.part"),
        ({"plant": "ZZ99"}, "body.plant"),
        ({"vendor_id": "V-9999"}, "body.vendor_id"),
    ],
)
def test_bad_purchase_orders_are_422_and_create_nothing(
    erp: httpx.Client, services: SupplyChainServices, changes: dict[str, Any], location: str
) -> None:
    response = erp.post("/purchase-orders", json=po(**changes))
    assert response.status_code == 422
    assert location in [d["location"] for d in response.json()["details"]]
    assert services.erp.counts["purchase_orders"] == 0


@pytest.mark.parametrize(
    "missing", ["part", "plant", "quantity", "vendor_id", "unit_price", "currency"]
)
def test_purchase_order_without_required_field_is_422(erp: httpx.Client, missing: str) -> None:
    response = erp.post("/purchase-orders", json=po(**{missing: None}))
    assert response.status_code == 422
    assert missing in response.json()["details"][0]["message"]


@pytest.mark.parametrize("raw", [b"", b"{not json", b"[]", b"null"])
def test_purchase_order_body_must_be_a_json_object(erp: httpx.Client, raw: bytes) -> None:
    response = erp.post(
        "/purchase-orders", content=raw, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["error"] == "validation_failed"


@pytest.mark.parametrize(
    "path",
    [
        "/plants/DE01/parts/P-10/stock",
        "/plants/DE1/parts/P-100/stock",
        "/plants/DE01/parts/p-100/stock",
    ],
)
def test_bad_path_parameters_are_422(erp: httpx.Client, path: str) -> None:
    assert erp.get(path).status_code == 422


def test_unknown_query_parameter_is_422(erp: httpx.Client) -> None:
    response = erp.get("/vendors", params={"country": "DE", "include_deleted": "true"})
    assert response.status_code == 422
    assert response.json()["details"] == [
        {"location": "query.include_deleted", "message": "unknown parameter"}
    ]


def test_delete_vendor_is_idempotent_and_blocks_new_orders(
    erp: httpx.Client, services: SupplyChainServices
) -> None:
    deleted = erp.delete("/vendors/V-2001")
    assert deleted.status_code == 200
    assert deleted.json()["status"] == "deleted"
    again = erp.delete("/vendors/V-2001")
    assert again.status_code == 200
    assert again.json()["deleted_at"] == deleted.json()["deleted_at"]
    assert services.erp.deleted_vendors == ["V-2001"]
    assert "V-2001" not in {v["vendor_id"] for v in erp.get("/vendors").json()["vendors"]}
    refused = erp.post("/purchase-orders", json=po())
    assert refused.status_code == 409
    assert refused.json()["error"] == "vendor_deleted"
    assert erp.delete("/vendors/V-9999").status_code == 404


def test_update_vendor_bank_checks_the_iban(
    erp: httpx.Client, services: SupplyChainServices
) -> None:
    bad = erp.put(
        "/vendors/V-2001/bank-account",
        json={"iban": "DE89370400440532013001", "bic": "COBADEFFXXX"},
    )
    assert bad.status_code == 422
    assert services.erp.bank_changes == []
    good = erp.put(
        "/vendors/V-2001/bank-account",
        json={"iban": data.INJECTED_IBAN, "bic": data.INJECTED_BIC, "reason": "new house bank"},
    )
    assert good.status_code == 200
    assert good.json()["iban"] == data.INJECTED_IBAN
    change = services.erp.bank_changes[0]
    assert (change["vendor_id"], change["old_iban"]) == ("V-2001", "SE4550000000058398257466")
    assert services.erp.vendors["V-2001"]["iban"] == data.INJECTED_IBAN


def test_update_vendor_bank_rejects_spaces_and_unknown_vendors(erp: httpx.Client) -> None:
    spaced = erp.put(
        "/vendors/V-2001/bank-account",
        json={"iban": "DE89 3704 0044 0532 0130 00", "bic": "COBADEFFXXX"},
    )
    assert spaced.status_code == 422
    unknown = erp.put(
        "/vendors/V-9999/bank-account", json={"iban": data.INJECTED_IBAN, "bic": "COBADEFFXXX"}
    )
    assert unknown.status_code == 404


def test_unknown_route_and_method_are_json_errors(erp: httpx.Client) -> None:
    missing = erp.get("/materials")
    assert (missing.status_code, missing.json()["error"]) == (404, "not_found")
    wrong = erp.patch("/purchase-orders", json={})
    assert (wrong.status_code, wrong.json()["error"]) == (405, "method_not_allowed")
