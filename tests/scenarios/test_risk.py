"""The risk service over real HTTP, under its /v3 base path."""

from __future__ import annotations

import httpx
import pytest

from examples.supply_chain import SupplyChainServices, data, risk_level


def test_one_capable_supplier_is_high_risk_the_other_low(risk: httpx.Client) -> None:
    risky = risk.get("/suppliers/V-3002/risk").json()
    assert risky["score"] == 0.82 > data.RISK_LIMIT
    assert risky["level"] == "high"
    categories = {f["category"] for f in risky["findings"]}
    assert {"sanctions", "financial"} <= categories
    safe = risk.get("/suppliers/V-2001/risk").json()
    assert (safe["score"], safe["level"], safe["name"]) == (0.18, "low", "Nordic Bearings AB")


def test_base_url_carries_the_specs_server_path(services: SupplyChainServices) -> None:
    assert services.by_key["risk"].endswith("/v3")
    outside = httpx.get(services.by_key["risk"][:-3] + "/suppliers/V-2001/risk")
    assert outside.status_code == 404


def test_unrated_supplier_is_404(risk: httpx.Client) -> None:
    assert risk.get("/suppliers/V-7777/risk").status_code == 404


@pytest.mark.parametrize("supplier", ["V-20011", "v-2001", "V-2001;DROP", "2001"])
def test_bad_supplier_id_is_422(risk: httpx.Client, supplier: str) -> None:
    assert risk.get(f"/suppliers/{supplier}/risk").status_code == 422


def test_encoded_slash_cannot_reach_another_route(risk: httpx.Client) -> None:
    response = risk.get("/suppliers/..%2F..%2Fadmin/risk")
    assert response.status_code in (404, 422)


def test_changed_rating_is_served_and_reset_restores_it(
    risk: httpx.Client, services: SupplyChainServices
) -> None:
    services.risk.set_score("V-2001", 0.75)
    assert risk.get("/suppliers/V-2001/risk").json()["level"] == "high"
    services.reset()
    assert risk.get("/suppliers/V-2001/risk").json()["score"] == 0.18


@pytest.mark.parametrize(
    ("score", "level"),
    [(0.0, "low"), (0.39, "low"), (0.4, "medium"), (0.69, "medium"), (0.7, "high"), (1.0, "high")],
)
def test_risk_levels(score: float, level: str) -> None:
    assert risk_level(score) == level
