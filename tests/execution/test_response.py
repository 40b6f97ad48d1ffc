"""Bodies are read within a budget, parsed, and validated with precise JSON paths."""

from __future__ import annotations

from typing import Any

import pytest

from core.execution import CallContext, HttpExecutor, validate_body

from .backend import Backend, Reply, make_tool

ORDER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["data"],
    "properties": {
        "data": {
            "type": "object",
            "required": ["id", "status"],
            "additionalProperties": False,
            "properties": {
                "id": {"type": "string"},
                "status": {"enum": ["open", "closed"]},
                "lines": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"qty": {"type": "integer", "minimum": 1}},
                    },
                },
            },
        },
    },
}


def order_tool(base_url: str) -> Any:
    return make_tool(
        base_url,
        path="/orders/1",
        responses={"200": ORDER_SCHEMA, "4XX": {"type": "object", "required": ["error"]}},
    )


def test_a_conforming_body_is_valid(
    executor: HttpExecutor, backend: Backend, base_url: str, ctx: CallContext
) -> None:
    body = {"data": {"id": "O-1", "status": "open", "lines": [{"qty": 2}]}}
    backend.script("/v1/orders/1", Reply(200, body))

    result = executor.execute(order_tool(base_url), {}, ctx)

    assert result.body == body
    assert (result.valid, result.validation_errors) == (True, [])


def test_a_drifted_body_is_invalid_with_paths(
    executor: HttpExecutor, backend: Backend, base_url: str, ctx: CallContext
) -> None:
    drifted = {
        "data": {"order_id": "O-1", "status": "shipped", "lines": [{"qty": "2"}, {"qty": 0}]}
    }
    backend.script("/v1/orders/1", Reply(200, drifted))

    result = executor.execute(order_tool(base_url), {}, ctx)

    assert result.ok  # HTTP succeeded; the drift is reported, not raised
    assert result.valid is False
    assert result.validation_errors == [
        "$.data.id: 'id' is a required property",
        '$.data.lines[0].qty: expected integer, got string "2"',
        "$.data.lines[1].qty: expected >= 1, got 0",
        "$.data.order_id: unexpected property; allowed: id, lines, status",
        '$.data.status: expected one of ["open", "closed"], got "shipped"',
    ]


def test_status_picks_the_schema(
    executor: HttpExecutor, backend: Backend, base_url: str, ctx: CallContext
) -> None:
    backend.script("/v1/orders/1", Reply(404, {"message": "gone"}))
    result = executor.execute(order_tool(base_url), {}, ctx)

    assert result.status_code == 404
    assert result.valid is False
    assert result.validation_errors == ["$.error: 'error' is a required property"]


def test_no_schema_means_not_validated(
    executor: HttpExecutor, backend: Backend, base_url: str, ctx: CallContext
) -> None:
    backend.script("/v1/things", Reply(200, text="plain words"))
    result = executor.execute(make_tool(base_url), {}, ctx)

    assert result.body == "plain words"
    assert result.headers["content-type"].startswith("text/plain")
    assert (result.valid, result.validation_errors) == (None, [])


def test_text_where_json_was_promised_fails_validation(
    executor: HttpExecutor, backend: Backend, base_url: str, ctx: CallContext
) -> None:
    backend.script("/v1/orders/1", Reply(200, text="<html>maintenance</html>"))
    result = executor.execute(order_tool(base_url), {}, ctx)

    assert result.body == "<html>maintenance</html>"
    assert result.valid is False
    assert result.validation_errors == ['$: expected object, got string "<html>maintenance</html>"']


@pytest.mark.parametrize("streamed", [False, True])
def test_an_oversized_body_is_an_error(
    backend: Backend, base_url: str, ctx: CallContext, streamed: bool
) -> None:
    big = Reply(200, stream_bytes=300_000) if streamed else Reply(200, ["x" * 1000] * 300)
    backend.script("/v1/things", big)
    with HttpExecutor(max_response_bytes=100_000) as executor:
        result = executor.execute(make_tool(base_url), {}, ctx)

    assert result.status_code == 200
    assert result.body is None
    assert result.error is not None and "exceeds the limit of 100000 bytes" in result.error
    assert result.retryable is False
    assert not result.ok


def test_a_body_at_the_limit_is_read(backend: Backend, base_url: str, ctx: CallContext) -> None:
    backend.script("/v1/things", Reply(200, stream_bytes=100_000))
    with HttpExecutor(max_response_bytes=100_000) as executor:
        result = executor.execute(make_tool(base_url), {}, ctx)

    assert result.error is None
    assert isinstance(result.body, str) and len(result.body) == 100_000


def test_head_has_no_body_and_no_validation(
    executor: HttpExecutor, backend: Backend, base_url: str, ctx: CallContext
) -> None:
    tool = make_tool(base_url, method="HEAD", responses={"200": {"type": "object"}})
    result = executor.execute(tool, {}, ctx)

    assert result.status_code == 200
    assert result.body is None and result.valid is None
    assert backend.seen[0].method == "HEAD"


def test_validation_paths_for_odd_keys_and_alternatives() -> None:
    schema = {
        "type": "object",
        "properties": {
            "odd key": {"type": "integer"},
            "choice": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
            "tags": {"type": ["array", "null"]},
        },
    }
    valid, errors = validate_body(schema, {"odd key": "1", "choice": 1.5, "tags": "a"})

    assert valid is False
    assert errors == [
        "$.choice: matches none of the oneOf alternatives (closest: $.choice: expected "
        "string, got number 1.5)",
        "$['odd key']: expected integer, got string \"1\"",
        '$.tags: expected array or null, got string "a"',  # sorted by path, not by text
    ]


def test_an_unusable_schema_is_reported_not_raised() -> None:
    valid, errors = validate_body({"$ref": "#/$defs/missing"}, {})
    assert valid is None
    assert len(errors) == 1 and errors[0].startswith("$: response schema cannot be used")
