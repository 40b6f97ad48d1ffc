"""Bad input gets a 4xx JSON error naming the problem; a crash gets a generic 500."""

from __future__ import annotations

import logging

import pytest

from core.api import MAX_BODY_BYTES
from core.domain import Run
from core.errors import NotFoundError
from core.state.memory import MemoryStore
from tests.api.world import World, build_world


def _error(response: object) -> dict[str, object]:
    error: dict[str, object] = response.json()["error"]  # type: ignore[attr-defined]
    return error


def test_malformed_json_is_400(world: World) -> None:
    response = world.request("POST", "/runs", raw=b'{"goal": "x",')
    assert response.status == 400
    assert _error(response)["code"] == "malformed_json"
    assert "not valid JSON" in str(_error(response)["message"])


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        (b'{"goal": NaN, "catalog": []}', 400, "malformed_json"),
        (b'{"inputs": {"x": 1e999}, "scenario": "supply-chain"}', 400, "malformed_json"),
        (b"[" * 5000 + b"]" * 5000, 400, "malformed_json"),
        (b'["not", "an", "object"]', 422, "validation_error"),
        (b"\xff\xfe garbage", 400, "malformed_json"),
    ],
)
def test_json_that_is_not_an_object_or_not_json(
    world: World, raw: bytes, status: int, code: str
) -> None:
    response = world.request("POST", "/runs", raw=raw)
    assert (response.status, _error(response)["code"]) == (status, code)


def test_wrong_type_names_the_field(world: World) -> None:
    response = world.request(
        "POST",
        "/runs",
        body={"goal": "x", "catalog": [f"{world.url}/s.json"], "budget": {"max_steps": "many"}},
    )
    assert response.status == 422
    details = _error(response)["details"]
    assert details == [
        {
            "loc": ["body", "budget", "max_steps"],
            "msg": "Input should be a valid integer, unable to parse string as an integer",
            "type": "int_parsing",
        }
    ]
    assert str(_error(response)["message"]).startswith("body.budget.max_steps:")


def test_unknown_field_is_refused_by_name(world: World) -> None:
    response = world.request("POST", "/runs", body={"scenario": "supply-chain", "priority": "high"})
    assert response.status == 422
    assert _error(response)["details"][0]["loc"] == ["body", "priority"]  # type: ignore[index]
    assert _error(response)["details"][0]["type"] == "extra_forbidden"  # type: ignore[index]


def test_both_or_neither_source_is_refused(world: World) -> None:
    neither = world.request("POST", "/runs", body={"goal": "x"})
    both = world.request(
        "POST", "/runs", body={"scenario": "supply-chain", "catalog": [f"{world.url}/s.json"]}
    )
    for response in (neither, both):
        assert response.status == 422
        assert "either 'workflow' or 'catalog'" in str(_error(response)["message"])


def test_body_over_the_limit_is_413_before_parsing(world: World) -> None:
    raw = b'{"goal": "' + b"x" * MAX_BODY_BYTES + b'"}'
    response = world.request("POST", "/runs", raw=raw)
    assert response.status == 413 and _error(response)["code"] == "payload_too_large"


def test_missing_body_and_wrong_media_type(world: World) -> None:
    assert world.request("POST", "/runs").status == 400
    response = world.request(
        "POST",
        "/runs",
        raw=b"goal=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status == 415


def test_unknown_run_and_approval_are_404(world: World) -> None:
    response = world.request("GET", "/runs/run_doesnotexist")
    assert response.status == 404 and "run_doesnotexist" in str(_error(response)["message"])
    assert world.request("GET", "/runs/bad%2Fid%23x").status == 404
    run_id = world.start()
    missing = world.request(
        "POST",
        f"/runs/{run_id}/approvals/apr_nope",
        body={"decision": "approve"},
        token=world.token(sub="bob", roles=["approver"]),
    )
    assert missing.status == 404


def test_unknown_path_is_404_and_wrong_method_is_405(world: World) -> None:
    assert world.request("GET", "/nowhere").status == 404
    response = world.request("DELETE", "/runs")
    assert response.status == 405 and response.headers["allow"] == "GET, POST"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"status": "sleeping"}, "status"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_query_parameters_are_named(world: World, query: dict[str, str], field: str) -> None:
    response = world.request("GET", "/runs", query=query)
    assert response.status == 422
    assert _error(response)["details"][0]["loc"] == ["query", field]  # type: ignore[index]


def test_bad_cursor_is_422(world: World) -> None:
    response = world.request("GET", "/runs", query={"cursor": "not-a-cursor"})
    assert response.status == 422 and _error(response)["code"] == "invalid_cursor"


def test_catalog_and_base_urls_must_name_allowed_hosts(world: World) -> None:
    for body in (
        {"goal": "x", "catalog": ["https://example.com/spec.json"]},
        {"scenario": "supply-chain", "base_urls": {"ERP": "https://evil.example"}},
    ):
        response = world.request("POST", "/runs", body=body)
        assert response.status == 403 and _error(response)["code"] == "host_not_allowed"


def test_bad_idempotency_key_is_400(world: World) -> None:
    response = world.request(
        "POST", "/runs", body={"scenario": "supply-chain"}, headers={"Idempotency-Key": "x" * 300}
    )
    assert response.status == 400 and _error(response)["code"] == "invalid_idempotency_key"


class BrokenStore(MemoryStore):
    """A store whose reads crash with a vendor-style error (a fault no real store gives on
    demand)."""

    def get_run(self, run_id: str, *, with_steps: bool = True) -> Run:
        if run_id.startswith("run_boom"):
            raise RuntimeError("secret internals: connection pool exhausted")
        raise NotFoundError(run_id)


def test_a_crash_is_a_generic_500_with_a_correlation_id_and_is_logged(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    broken = build_world(world.issuer, world.service, world.url, store=BrokenStore())
    with caplog.at_level(logging.ERROR, logger="paddock.api"):
        response = broken.request(
            "GET", "/runs/run_boom1", headers={"X-Correlation-Id": "corr-123"}
        )
    assert response.status == 500
    error = _error(response)
    assert error["code"] == "internal_error" and error["correlation_id"] == "corr-123"
    assert "secret" not in response.body.decode() and "Traceback" not in response.body.decode()
    assert response.headers["x-correlation-id"] == "corr-123"
    [record] = [r for r in caplog.records if r.name == "paddock.api"]
    assert record.correlation_id == "corr-123"  # type: ignore[attr-defined]
    assert record.exc_info is not None
