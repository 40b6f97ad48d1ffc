"""Arguments onto the wire: path, query, header and body params, and path escaping."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

import pytest

from core.domain import ParamLocation
from core.execution import CallContext, HttpExecutor

from .backend import BODY, Backend, make_tool, param

PATH, QUERY, HEADER = ParamLocation.PATH, ParamLocation.QUERY, ParamLocation.HEADER


def test_get_maps_path_query_and_header_params(
    executor: HttpExecutor, backend: Backend, base_url: str, ctx: CallContext
) -> None:
    tool = make_tool(
        base_url,
        path="/plants/{plant}/stock",
        params=(
            param("plant", PATH, required=True),
            param("part", QUERY, required=True),
            param("tags", QUERY),
            param("limit", QUERY),
            param("exact", QUERY),
            param("tenant_id", HEADER, name="X-Tenant"),
            param("missing", QUERY),
        ),
    )
    args = {
        "plant": "DE01",
        "part": "P-100",
        "tags": ["a", "b c"],
        "limit": 5,
        "exact": True,
        "tenant_id": "acme",
    }

    result = executor.execute(tool, args, ctx)

    assert result.ok, result.error
    [seen] = backend.seen
    assert seen.method == "GET"
    assert seen.raw_path == "/v1/plants/DE01/stock"
    assert parse_qsl(seen.query) == [
        ("part", "P-100"),
        ("tags", "a"),
        ("tags", "b c"),
        ("limit", "5"),
        ("exact", "true"),
    ]
    assert seen.headers["x-tenant"] == "acme"
    assert "idempotency-key" not in seen.headers
    assert result.body == {"method": "GET", "path": "/v1/plants/DE01/stock", "query": seen.query}
    assert result.attempts == 1


def test_query_styles_follow_openapi_defaults(
    executor: HttpExecutor, backend: Backend, base_url: str, ctx: CallContext
) -> None:
    tool = make_tool(
        base_url,
        params=(
            param("ids", QUERY, explode=False),
            param("pipes", QUERY, style="pipeDelimited", explode=False),
            param("filter", QUERY, style="deepObject", explode=True),
        ),
    )
    result = executor.execute(
        tool, {"ids": [1, 2, 3], "pipes": ["x", "y"], "filter": {"status": "open"}}, ctx
    )

    assert result.ok
    assert parse_qsl(backend.seen[0].query) == [
        ("ids", "1,2,3"),
        ("pipes", "x|y"),
        ("filter[status]", "open"),
    ]


def test_base_url_query_is_kept(
    executor: HttpExecutor, backend: Backend, base_url: str, ctx: CallContext
) -> None:
    tool = make_tool(base_url + "?api-version=2024-01-01", params=(param("q", QUERY),))
    assert executor.execute(tool, {"q": "x"}, ctx).ok
    assert parse_qsl(backend.seen[0].query) == [("api-version", "2024-01-01"), ("q", "x")]


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        ("a b", "a%20b"),
        ("Müller & Söhne", "M%C3%BCller%20%26%20S%C3%B6hne"),
        ("50%?#", "50%25%3F%23"),
        ("...", "..."),
        ("%2e%2e", "%252e%252e"),
        (42, "42"),
    ],
)
def test_path_values_are_escaped(
    executor: HttpExecutor,
    backend: Backend,
    base_url: str,
    ctx: CallContext,
    value: object,
    wire: str,
) -> None:
    tool = make_tool(
        base_url, path="/items/{item}/detail", params=(param("item", PATH, required=True),)
    )
    result = executor.execute(tool, {"item": value}, ctx)

    assert result.ok, result.error
    assert backend.seen[0].raw_path == f"/v1/items/{wire}/detail"


@pytest.mark.parametrize("value", ["..", ".", "", "a/b", "../../admin", "a\\b"])
def test_path_values_that_could_traverse_are_refused(
    executor: HttpExecutor, backend: Backend, base_url: str, ctx: CallContext, value: str
) -> None:
    tool = make_tool(base_url, path="/items/{item}", params=(param("item", PATH, required=True),))
    result = executor.execute(tool, {"item": value}, ctx)

    assert result.refused is not None
    assert "path parameter 'item'" in result.refused
    assert result.error is not None and result.error.startswith("refused:")
    assert result.status_code is None
    assert result.attempts == 0
    assert backend.seen == []


def test_a_template_that_climbs_out_of_the_base_path_is_refused(
    executor: HttpExecutor, backend: Backend, base_url: str, ctx: CallContext
) -> None:
    tool = make_tool(base_url, path="/../admin/users")
    result = executor.execute(tool, {}, ctx)

    assert result.refused is not None and "leaves the base path" in result.refused
    assert backend.seen == []


def test_path_styles_label_and_matrix(
    executor: HttpExecutor, backend: Backend, base_url: str, ctx: CallContext
) -> None:
    tool = make_tool(
        base_url,
        path="/a/{ids}/b/{m}",
        params=(
            param("ids", PATH, required=True, style="label"),
            param("m", PATH, required=True, style="matrix", explode=True),
        ),
    )
    assert executor.execute(tool, {"ids": ["x", "y z"], "m": ["1", "2"]}, ctx).ok
    assert backend.seen[0].raw_path == "/v1/a/.x,y%20z/b/;m=1;m=2"


def test_unknown_and_missing_arguments_are_refused(
    executor: HttpExecutor, backend: Backend, base_url: str, ctx: CallContext
) -> None:
    tool = make_tool(base_url, params=(param("q", QUERY, required=True),))

    unknown = executor.execute(tool, {"q": "x", "sneaky": "1"}, ctx)
    missing = executor.execute(tool, {}, ctx)

    assert unknown.refused == "unknown argument(s) for tool: sneaky"
    assert missing.refused == "missing required argument 'q'"
    assert backend.seen == []


def test_header_params_cannot_inject_lines_or_set_credentials(
    executor: HttpExecutor, backend: Backend, base_url: str, ctx: CallContext
) -> None:
    tool = make_tool(
        base_url,
        params=(param("h", HEADER, name="X-Note"), param("auth", HEADER, name="Authorization")),
    )

    injected = executor.execute(tool, {"h": "ok\r\nX-Admin: yes"}, ctx)
    assert injected.refused is not None and "X-Note" in injected.refused
    assert backend.seen == []

    result = executor.execute(tool, {"h": "fine", "auth": "Bearer planner-made-this-up"}, ctx)
    assert result.ok
    assert backend.seen[0].headers["x-note"] == "fine"
    assert "authorization" not in backend.seen[0].headers


def test_json_body_is_sent_as_json(
    executor: HttpExecutor, backend: Backend, base_url: str, ctx: CallContext
) -> None:
    tool = make_tool(
        base_url, method="PUT", path="/things/{id}", params=(param("id", PATH, required=True), BODY)
    )
    body = {"name": "Grüße", "qty": 500, "tags": ["x"]}

    result = executor.execute(tool, {"id": "T-1", "body": body}, ctx)

    assert result.ok
    seen = backend.seen[0]
    assert seen.method == "PUT"
    assert seen.headers["content-type"] == "application/json"
    assert json.loads(seen.body) == body


def test_traceparent_is_propagated(executor: HttpExecutor, backend: Backend, base_url: str) -> None:
    parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    ctx = CallContext(run_id="r", step_index=0, call_index=0, traceparent=parent)
    assert executor.execute(make_tool(base_url), {}, ctx).ok
    assert backend.seen[0].headers["traceparent"] == parent


def test_base_url_must_be_absolute_http(executor: HttpExecutor, ctx: CallContext) -> None:
    for bad in ("/relative/api", "ftp://files.example/x", "not a url"):
        result = executor.execute(make_tool(bad), {}, ctx)
        assert result.refused is not None and "base URL" in result.refused


def test_other_body_media_types(
    executor: HttpExecutor, backend: Backend, base_url: str, ctx: CallContext
) -> None:
    patch = make_tool(
        base_url,
        method="PATCH",
        params=(BODY,),
        body_content_type="application/merge-patch+json",
    )
    form = make_tool(
        base_url,
        method="POST",
        params=(BODY,),
        body_content_type="application/x-www-form-urlencoded",
    )
    xml = make_tool(base_url, method="POST", params=(BODY,), body_content_type="application/xml")

    assert executor.execute(patch, {"body": {"qty": None}}, ctx).ok
    assert executor.execute(form, {"body": {"q": "a b", "n": 2}}, ctx).ok
    refused = executor.execute(xml, {"body": {"q": 1}}, ctx)

    first, second = backend.seen
    assert first.headers["content-type"] == "application/merge-patch+json"
    assert json.loads(first.body) == {"qty": None}
    assert second.headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qsl(second.body.decode()) == [("q", "a b"), ("n", "2")]
    assert refused.refused == "request body type 'application/xml' is not supported by the executor"
