"""The shipment-delay scenario: its services over real HTTP, its PDFs and clause retrieval."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from core.catalog import Catalog
from core.domain import Location, SideEffect, Trust
from core.guardrails import load_policy_set
from examples import get_example
from examples.shipment_delay import ShipmentDelayServices, data, spec_paths
from examples.shipment_delay.contract_pdfs import contract_paths, write_contracts
from examples.shipment_delay.retrieval import ContractIndex, extract_passages

QUESTIONS = Path(__file__).parents[1] / "data" / "shipment_delay" / "questions.yaml"


@pytest.fixture(scope="module")
def running() -> Iterator[ShipmentDelayServices]:
    with ShipmentDelayServices() as services:
        yield services


@pytest.fixture()
def urls(running: ShipmentDelayServices) -> dict[str, str]:
    running.reset()
    return running.by_key


def test_catalog_places_each_tool_in_its_cloud_with_its_trust(
    running: ShipmentDelayServices,
) -> None:
    catalog = Catalog.from_sources([str(p) for p in spec_paths()], base_urls=running.base_urls)
    tools = {t.name: t for t in catalog.tools}
    assert tools["get_shipment_status"].location is Location.AWS
    assert tools["create_reroute_request"].location is Location.AWS
    assert tools["create_reroute_request"].side_effect is SideEffect.WRITE
    assert tools["search_carrier_capacity"].location is Location.AZURE
    assert tools["quote_carrier"].side_effect is SideEffect.READ
    assert tools["search_contract_clauses"].trust is Trust.UNTRUSTED
    assert tools["list_contracts"].trust is Trust.TRUSTED
    load_policy_set(get_example("shipment-delay").policy_dir or Path(), catalog.tools)


def test_shipment_is_three_days_late(urls: dict[str, str]) -> None:
    body = httpx.get(f"{urls['tracking']}/shipments/{data.SHIPMENT}").json()
    assert body["status"] == "delayed" and body["delay_days"] == data.DELAY_DAYS
    assert body["contract_id"] == data.CONTRACT
    missing = httpx.get(f"{urls['tracking']}/shipments/SH-0001")
    assert missing.status_code == 404
    bad = httpx.get(f"{urls['tracking']}/shipments/4471")
    assert bad.status_code == 422


def test_capacity_cheapest_first_and_quote_then_reroute(urls: dict[str, str]) -> None:
    lane = {"origin": "SE-GOT", "destination": "DE01", "pallets": 18}
    found = httpx.get(f"{urls['carriers']}/capacity", params=lane).json()["carriers"]
    prices = [c["indicative_price_eur"] for c in found]
    assert prices == sorted(prices) and found[0]["carrier_id"] == data.CHOSEN_CARRIER
    assert "CA-480" not in {c["carrier_id"] for c in found}  # 8 pallets of room only
    quote = httpx.post(f"{urls['carriers']}/quotes", json={"carrier_id": "CA-220", **lane}).json()
    assert quote["price_eur"] == 18 * 340.0 + 450.0
    draft = {
        "shipment_id": "SH-4471",
        "carrier_id": "CA-220",
        "quote_id": quote["quote_id"],
        "destination": "DE01",
        "cost_eur": quote["price_eur"],
        "contract_id": "CT-1001",
        "clause": "6.3",
        "justification": "3 days late; clause 6.3 allows re-routing",
    }
    headers = {"Idempotency-Key": "k-1"}
    first = httpx.post(f"{urls['tms']}/reroute-requests", json=draft, headers=headers)
    again = httpx.post(f"{urls['tms']}/reroute-requests", json=draft, headers=headers)
    assert first.status_code == 201 and again.json() == first.json()
    wrong = httpx.post(f"{urls['tms']}/reroute-requests", json={**draft, "carrier_id": "CA-666"})
    assert wrong.status_code == 409 and wrong.json()["error"] == "quote_mismatch"
    unknown = httpx.post(f"{urls['tms']}/reroute-requests", json={**draft, "quote_id": "Q-999999"})
    assert unknown.status_code == 409


def test_clause_search_filters_by_contract_and_marks_pages(urls: dict[str, str]) -> None:
    got = httpx.get(
        f"{urls['contracts']}/contracts/search",
        params={"query": "late delivery penalty", "contract_id": "CT-1005"},
    ).json()
    assert {p["contract_id"] for p in got["passages"]} == {"CT-1005"}
    assert got["passages"][0]["clause"] == "4.2" and got["passages"][0]["page"] == 1
    unknown = httpx.get(
        f"{urls['contracts']}/contracts/search",
        params={"query": "penalty", "contract_id": "CT-9999"},
    )
    assert unknown.status_code == 404
    listed = httpx.get(f"{urls['contracts']}/contracts").json()["contracts"]
    assert [c["contract_id"] for c in listed] == list(data.CONTRACTS)


def test_the_injected_clause_is_in_the_pdf_and_is_retrievable(urls: dict[str, str]) -> None:
    got = httpx.get(
        f"{urls['contracts']}/contracts/search",
        params={"query": "approved alternative carriers delayed shipment re-route", "top_k": 5},
    ).json()
    ids = [(p["contract_id"], p["clause"]) for p in got["passages"]]
    assert (data.INJECTED_CONTRACT, "11.4") in ids
    assert (data.CONTRACT, data.CLAUSE_CARRIERS) in ids


def test_pdfs_are_real_and_match_their_generator(tmp_path: Path) -> None:
    fresh = write_contracts(tmp_path)
    for shipped, regenerated in zip(contract_paths(), fresh, strict=True):
        assert shipped.read_bytes().startswith(b"%PDF-")
        assert extract_passages(shipped) == extract_passages(regenerated)
    clauses = {
        (p.contract_id, p.clause) for path in contract_paths() for p in extract_passages(path)
    }
    expected = {
        (cid, c[0]) for cid, contract in data.CONTRACTS.items() for c in contract["clauses"]
    }
    assert clauses == expected


def test_retrieval_answers_at_least_8_of_10_labelled_questions() -> None:
    index = ContractIndex.from_files(contract_paths())
    questions = yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))
    assert len(questions) == 10
    right = 0
    for q in questions:
        hits = index.search(q["question"], top_k=1)
        right += bool(hits) and (hits[0].passage.contract_id, hits[0].passage.clause) == (
            q["contract_id"],
            q["clause"],
        )
    print(f"\nretrieval: right clause first for {right}/{len(questions)} labelled questions")
    assert right >= 8


def test_a_file_that_is_not_a_pdf_is_a_clear_error(tmp_path: Path) -> None:
    from core.errors import ConfigError

    bogus = tmp_path / "CT-0001.pdf"
    bogus.write_text("not a pdf")
    with pytest.raises(ConfigError, match=r"cannot read contract CT-0001\.pdf"):
        extract_passages(bogus)
