"""Request logs (what reached a service, even when refused) and pluggable credential checks."""

from __future__ import annotations

import hashlib
import json

import httpx
import pytest
from starlette.requests import Request

from core.errors import ConfigError
from examples.supply_chain import SupplyChainServices, require_api_key


def test_log_records_method_path_query_headers_and_body(services: SupplyChainServices) -> None:
    url = services.by_key["portal"]
    httpx.get(
        url + "/suppliers",
        params={"part": "P-100", "quantity": 500},
        headers={"Authorization": "AWS4-HMAC-SHA256 Credential=AKIA/..."},
    )
    httpx.post(
        url + "/messages",
        json={"supplier_id": "V-2001", "subject": "s", "body": "b"},
        headers={"Idempotency-Key": "k-9"},
    )
    first, second = services.portal.requests
    assert (first.method, first.path, first.query) == (
        "GET",
        "/suppliers",
        "part=P-100&quantity=500",
    )
    assert first.authorization == "AWS4-HMAC-SHA256 Credential=AKIA/..."
    assert first.status == 200
    assert second.headers["idempotency-key"] == "k-9"
    assert second.json == {"supplier_id": "V-2001", "subject": "s", "body": "b"}
    assert second.status == 201
    assert services.portal.requests_for("POST", "/messages") == [second]


def test_log_keeps_rejected_and_unrouted_requests(services: SupplyChainServices) -> None:
    erp = services.by_key["erp"]
    httpx.post(erp + "/purchase-orders", content=b"{broken")
    httpx.get(erp + "/admin/export")
    statuses = [(r.path, r.status, r.json) for r in services.erp.requests]
    assert statuses == [("/purchase-orders", 422, None), ("/admin/export", 404, None)]


def test_forbidden_request_never_reaching_shows_as_no_log_entry(
    services: SupplyChainServices,
) -> None:
    httpx.get(services.by_key["erp"] + "/vendors")
    assert services.erp.requests_for("DELETE", "/vendors/") == []
    assert services.erp.deleted_vendors == []


def test_risk_log_records_the_full_path_under_the_base_path(services: SupplyChainServices) -> None:
    httpx.get(services.by_key["risk"] + "/suppliers/V-3002/risk", headers={"X-Api-Key": "k"})
    [record] = services.risk.requests_for("GET", "/suppliers/V-3002")
    assert record.path == "/v3/suppliers/V-3002/risk"
    assert record.headers["x-api-key"] == "k"


def test_verify_auth_refusal_is_401_and_the_handler_never_runs(
    services: SupplyChainServices,
) -> None:
    services.erp.verify_auth = lambda request: (
        None if request.headers.get("authorization") == "Bearer good" else "bad token"
    )
    url = services.by_key["erp"] + "/vendors/V-2001"
    refused = httpx.delete(url, headers={"Authorization": "Bearer forged"})
    assert refused.status_code == 401
    assert refused.json() == {"error": "unauthorized", "message": "bad token"}
    assert services.erp.deleted_vendors == []
    assert [(r.authorization, r.status) for r in services.erp.requests] == [("Bearer forged", 401)]
    assert httpx.delete(url, headers={"Authorization": "Bearer good"}).status_code == 200
    assert services.erp.deleted_vendors == ["V-2001"]


def test_async_verifier_can_read_the_body(services: SupplyChainServices) -> None:
    seen: list[bytes] = []

    async def verify(request: Request) -> str | None:
        body = await request.body()
        seen.append(body)
        digest = hashlib.sha256(body).hexdigest()
        return None if request.headers.get("x-amz-content-sha256") == digest else "digest"

    services.portal.verify_auth = verify
    payload = json.dumps({"supplier_id": "V-2001", "part": "P-100", "quantity": 500}).encode()
    good = hashlib.sha256(payload).hexdigest()
    url = services.by_key["portal"] + "/quotes"
    headers = {"content-type": "application/json"}
    ok = httpx.post(url, content=payload, headers={**headers, "x-amz-content-sha256": good})
    assert ok.status_code == 201  # the handler still got the body after the verifier read it
    tampered = payload.replace(b"500", b"900")
    assert (
        httpx.post(
            url, content=tampered, headers={**headers, "x-amz-content-sha256": good}
        ).status_code
        == 401
    )
    assert seen == [payload, tampered]
    assert services.portal.counts["quotes"] == 1


def test_sync_verifier_sees_the_raw_body_on_state(services: SupplyChainServices) -> None:
    bodies: list[bytes] = []

    def verify(request: Request) -> str | None:
        bodies.append(request.state.body)
        return None

    services.portal.verify_auth = verify
    httpx.post(
        services.by_key["portal"] + "/messages",
        json={"supplier_id": "V-2001", "subject": "s", "body": "b"},
    )
    assert json.loads(bodies[0]) == {"supplier_id": "V-2001", "subject": "s", "body": "b"}


def test_require_api_key(services: SupplyChainServices) -> None:
    services.risk.verify_auth = require_api_key("s3cret")
    url = services.by_key["risk"] + "/suppliers/V-2001/risk"
    assert httpx.get(url).json()["message"] == "missing X-Api-Key header"
    assert httpx.get(url, headers={"X-Api-Key": "guess"}).status_code == 401
    assert httpx.get(url, headers={"X-Api-Key": "s3cret"}).status_code == 200


def test_verify_auth_by_key_at_construction() -> None:
    with SupplyChainServices(verify_auth={"risk": require_api_key("k")}) as services:
        url = services.by_key["risk"] + "/suppliers/V-2001/risk"
        assert httpx.get(url).status_code == 401
        assert httpx.get(services.by_key["erp"] + "/vendors").status_code == 200
    with pytest.raises(ConfigError, match="unknown services: crm"):
        SupplyChainServices(verify_auth={"crm": require_api_key("k")})


def test_reset_clears_logs_and_state(services: SupplyChainServices) -> None:
    httpx.delete(services.by_key["erp"] + "/vendors/V-1003")
    services.reset()
    assert services.erp.requests == []
    assert services.erp.deleted_vendors == []
    assert "V-1003" in services.erp.vendors


def test_base_urls_by_title_and_by_key(services: SupplyChainServices) -> None:
    assert set(services.base_urls) == {
        "ERP Materials Management API",
        "Supplier Portal API",
        "Supplier Risk API",
    }
    assert set(services.base_urls.values()) == set(services.by_key.values())
    assert all(url.startswith("http://127.0.0.1:") for url in services.by_key.values())


def test_stopped_services_have_no_urls_and_free_their_ports() -> None:
    services = SupplyChainServices().start()
    url = services.by_key["erp"]
    services.stop()
    with pytest.raises(ConfigError):
        _ = services.base_urls
    with pytest.raises(httpx.TransportError):
        httpx.get(url + "/vendors", timeout=1.0)
