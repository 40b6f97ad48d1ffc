"""Operations to tools: parameters, bodies, names, extensions, auth, base URLs."""

from __future__ import annotations

import re
from typing import Any

import pytest

from core.catalog import import_document
from core.domain import HttpBinding, Location, ParamLocation, SideEffect, Trust
from tests.catalog.helpers import (
    accepts,
    assert_consistent,
    one,
    openapi,
    result_of,
    swagger,
)

OK = {"200": {"description": "ok"}}


def _op(**fields: Any) -> dict[str, Any]:
    return {"responses": OK, **fields}


def test_swagger_body_query_and_path_parameters() -> None:
    doc = swagger(
        {
            "/orders/{orderId}/lines": {
                "parameters": [
                    {
                        "name": "orderId",
                        "in": "path",
                        "required": True,
                        "type": "string",
                        "pattern": "^[0-9]{8}$",
                    }
                ],
                "post": _op(
                    operationId="addLines",
                    parameters=[
                        {"name": "dryRun", "in": "query", "type": "boolean", "default": False},
                        {
                            "name": "skus",
                            "in": "query",
                            "type": "array",
                            "items": {"type": "string"},
                            "collectionFormat": "pipes",
                            "maxItems": 3,
                        },
                        {
                            "name": "tags",
                            "in": "query",
                            "type": "array",
                            "items": {"type": "string"},
                            "collectionFormat": "multi",
                        },
                        {
                            "name": "lines",
                            "in": "body",
                            "required": True,
                            "schema": {"$ref": "#/definitions/Lines"},
                        },
                    ],
                ),
            }
        },
        definitions={
            "Lines": {
                "type": "object",
                "required": ["items"],
                "properties": {
                    "items": {
                        "type": "array",
                        "minItems": 1,
                        "items": {"type": "integer", "minimum": 1, "x-nullable": True},
                    }
                },
            }
        },
    )
    tool = one(doc)
    assert_consistent(tool)
    assert tool.binding.base_url == "https://legacy.example.test/api"
    assert tool.binding.body_content_type == "application/json"
    by_arg = {p.arg: p for p in tool.binding.params}
    assert by_arg["orderId"].location is ParamLocation.PATH and by_arg["orderId"].required
    assert by_arg["body"].location is ParamLocation.BODY and by_arg["body"].required
    assert (by_arg["skus"].style, by_arg["skus"].explode) == ("pipeDelimited", False)
    assert (by_arg["tags"].style, by_arg["tags"].explode) == ("form", True)
    assert set(tool.args_schema["required"]) == {"orderId", "body"}
    good = {"orderId": "12345678", "skus": ["a"], "body": {"items": [1, None]}}
    assert accepts(tool, good)
    assert not accepts(tool, {**good, "orderId": "12"})
    assert not accepts(tool, {**good, "skus": ["a", "b", "c", "d"]})
    assert not accepts(tool, {**good, "body": {"items": []}})
    assert not accepts(tool, {"orderId": "12345678"})  # the body is required


def test_swagger_form_data_and_file_become_a_multipart_body() -> None:
    doc = swagger(
        {
            "/upload": {
                "post": _op(
                    operationId="upload",
                    consumes=["multipart/form-data"],
                    parameters=[
                        {"name": "file", "in": "formData", "type": "file", "required": True},
                        {"name": "note", "in": "formData", "type": "string"},
                    ],
                )
            }
        }
    )
    tool = one(doc)
    body = tool.args_schema["properties"]["body"]
    assert body["required"] == ["file"]
    assert body["properties"]["file"]["contentEncoding"] == "base64"
    assert body["properties"]["note"] == {"type": "string"}
    assert tool.args_schema["required"] == ["body"]
    assert isinstance(tool.binding, HttpBinding)
    assert tool.binding.body_content_type == "multipart/form-data"
    assert [(p.name, p.file) for p in tool.binding.body_parts] == [("file", True)]
    assert tool.warnings == ()


def test_swagger_response_schema_and_file_response() -> None:
    doc = swagger(
        {
            "/a": {
                "get": {
                    "operationId": "getA",
                    "responses": {
                        "200": {
                            "description": "ok",
                            "schema": {"type": "object", "properties": {"n": {"type": "integer"}}},
                        },
                        "default": {"description": "err", "schema": {"type": "file"}},
                    },
                }
            }
        }
    )
    tool = one(doc)
    assert set(tool.responses) == {"200"}
    assert tool.response_schema(200) == {"type": "object", "properties": {"n": {"type": "integer"}}}


def test_header_and_path_parameters_with_the_same_name_get_distinct_args() -> None:
    doc = openapi(
        {
            "/items/{id}": {
                "get": _op(
                    operationId="getItem",
                    parameters=[
                        {
                            "name": "id",
                            "in": "header",
                            "schema": {"type": "string", "maxLength": 4},
                        },
                        {
                            "name": "id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer"},
                        },
                        {"name": "id", "in": "query", "schema": {"type": "boolean"}},
                    ],
                )
            }
        }
    )
    tool = one(doc)
    assert_consistent(tool)
    wire = {(p.location, p.name): p.arg for p in tool.binding.params}
    assert wire == {
        (ParamLocation.PATH, "id"): "id",
        (ParamLocation.QUERY, "id"): "query_id",
        (ParamLocation.HEADER, "id"): "header_id",
    }
    assert accepts(tool, {"id": 5, "query_id": True, "header_id": "abcd"})
    assert not accepts(tool, {"id": 5, "header_id": "abcde"})


def test_query_parameter_named_body_does_not_clash_with_the_body() -> None:
    doc = openapi(
        {
            "/x": {
                "post": _op(
                    operationId="x",
                    parameters=[{"name": "body", "in": "query", "schema": {"type": "string"}}],
                    requestBody={"content": {"application/json": {"schema": {"type": "object"}}}},
                )
            }
        }
    )
    tool = one(doc)
    assert_consistent(tool)
    assert {(p.arg, p.location) for p in tool.binding.params} == {
        ("query_body", ParamLocation.QUERY),
        ("body", ParamLocation.BODY),
    }


def test_operation_parameters_override_path_item_parameters() -> None:
    doc = openapi(
        {
            "/x": {
                "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer"}}],
                "get": _op(
                    operationId="x",
                    parameters=[
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": {"type": "integer", "maximum": 5},
                        }
                    ],
                ),
            }
        }
    )
    tool = one(doc)
    assert len(tool.binding.params) == 1
    assert tool.args_schema["properties"]["limit"]["maximum"] == 5


def test_parameter_refs_and_undeclared_path_parameters() -> None:
    doc = openapi(
        {
            "/a/{a}/b/{b}": {
                "get": _op(operationId="ab", parameters=[{"$ref": "#/components/parameters/A"}])
            }
        }
    )
    doc["components"] = {
        "parameters": {
            "A": {
                "name": "a",
                "in": "path",
                "required": True,
                "schema": {"type": "string", "enum": ["x"]},
            }
        }
    }
    tool = one(doc)
    assert_consistent(tool)
    assert tool.args_schema["properties"]["a"]["enum"] == ["x"]
    assert tool.args_schema["properties"]["b"] == {"type": "string"}
    assert any("'b' is not declared" in w for w in tool.warnings)


@pytest.mark.parametrize(
    ("operation_id", "expected"),
    [
        ("list orders/v2", "list_orders_v2"),
        ("Orders.Get", "Orders_Get"),
        ("get-order_9", "get-order_9"),
        ("übersicht", "bersicht"),
    ],
)
def test_names_are_sanitised(operation_id: str, expected: str) -> None:
    tool = one(openapi({"/x": {"get": _op(operationId=operation_id)}}))
    assert tool.name == expected
    assert tool.binding.operation_id == operation_id


def test_long_and_missing_operation_ids() -> None:
    long_a, long_b = "a" * 70 + "One", "a" * 70 + "Two"
    doc = openapi(
        {
            "/one": {"get": _op(operationId=long_a), "post": _op(operationId=long_b)},
            "/orders/{orderId}/items": {"delete": _op()},
        }
    )
    names = [t.name for t in result_of(doc).tools]
    assert all(re.fullmatch(r"[a-zA-Z0-9_-]{1,64}", n) for n in names)
    assert len(set(names)) == 3
    assert names[2] == "delete_orders_orderId_items"


def test_duplicate_operation_ids_in_one_spec_are_suffixed_with_a_warning() -> None:
    doc = openapi(
        {
            "/a": {"get": _op(operationId="fetch")},
            "/b": {"get": _op(operationId="fetch")},
            "/c": {"get": _op(operationId="fetch")},
        }
    )
    result = result_of(doc)
    assert [t.name for t in result.tools] == ["fetch", "fetch_2", "fetch_3"]
    assert sum("used twice" in w for w in result.warnings) == 2


def test_multipart_cookies_and_unsupported_constructs() -> None:
    multipart = {
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        }
    }
    doc = openapi(
        {
            "/upload": {
                "post": _op(
                    operationId="upload",
                    requestBody=multipart,
                    parameters=[
                        {
                            "name": "session",
                            "in": "cookie",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    callbacks={"done": {"{$request.body#/cb}": {"post": _op()}}},
                )
            },
            "/xml": {
                "put": _op(
                    operationId="putXml",
                    requestBody={"content": {"application/xml": {"schema": {"type": "object"}}}},
                )
            },
        }
    )
    result = import_document(doc)
    upload, xml = result.tools
    assert upload.args_schema["properties"]["body"]["properties"]["file"]["type"] == "string"
    assert isinstance(upload.binding, HttpBinding)
    assert upload.binding.body_content_type == "multipart/form-data"
    cookie = next(p for p in upload.binding.params if p.name == "session")
    assert cookie.location.value == "cookie"
    assert "session" in upload.args_schema["required"]
    assert not any("cookie" in w or "multipart" in w for w in upload.warnings)
    assert any("callbacks" in w for w in upload.warnings)
    assert "body" not in xml.args_schema["properties"]
    assert any("application/xml is not supported" in w for w in xml.warnings)
    assert any(w.startswith("upload: ") for w in result.all_warnings())


def test_json_is_chosen_when_offered_next_to_other_media_types() -> None:
    doc = openapi(
        {
            "/x": {
                "post": _op(
                    operationId="x",
                    requestBody={
                        "content": {
                            "application/x-www-form-urlencoded": {"schema": {"type": "object"}},
                            "application/vnd.api+json": {
                                "schema": {"type": "object", "required": ["a"]}
                            },
                        }
                    },
                )
            }
        }
    )
    tool = one(doc)
    assert tool.binding.body_content_type == "application/vnd.api+json"
    assert tool.warnings == ()


def test_side_effects_by_method_and_override() -> None:
    doc = openapi(
        {
            "/r": {
                "get": _op(operationId="r"),
                "head": _op(operationId="h"),
                "post": _op(operationId="w"),
                "put": _op(operationId="u"),
                "patch": _op(operationId="p"),
                "delete": _op(operationId="d"),
            },
            "/search": {"post": _op(operationId="search", **{"x-paddock-side-effect": "read"})},
            "/purge": {
                "post": _op(operationId="purge", **{"x-paddock-side-effect": "destructive"})
            },
        }
    )
    effects = {t.name: t.side_effect for t in result_of(doc).tools}
    assert effects == {
        "r": SideEffect.READ,
        "h": SideEffect.READ,
        "w": SideEffect.WRITE,
        "u": SideEffect.WRITE,
        "p": SideEffect.WRITE,
        "d": SideEffect.DESTRUCTIVE,
        "search": SideEffect.READ,
        "purge": SideEffect.DESTRUCTIVE,
    }


def test_paddock_extensions_on_spec_and_operation() -> None:
    doc = openapi(
        {
            "/inbox": {
                "get": _op(
                    operationId="inbox",
                    summary="Read the inbox",
                    description="Messages from suppliers.",
                    deprecated=True,
                    **{
                        "x-paddock-trust": "untrusted",
                        "x-paddock-cloud": "aws",
                        "x-paddock-drift": "fail",
                    },
                )
            },
            "/stock": {"get": _op(operationId="stock")},
            "/odd": {"get": _op(operationId="odd", **{"x-paddock-cloud": "mars"})},
        },
        **{"x-paddock-cloud": "azure", "x-paddock-drift": "warn"},
    )
    tools = {t.name: t for t in result_of(doc).tools}
    inbox, stock, odd = tools["inbox"], tools["stock"], tools["odd"]
    assert (inbox.location, inbox.trust, inbox.drift_mode) == (
        Location.AWS,
        Trust.UNTRUSTED,
        "fail",
    )
    assert inbox.deprecated and inbox.description == "Read the inbox\n\nMessages from suppliers."
    assert (stock.location, stock.trust, stock.drift_mode) == (
        Location.AZURE,
        Trust.TRUSTED,
        "warn",
    )
    assert odd.location is Location.EXTERNAL and any("mars" in w for w in odd.warnings)


def test_spec_level_untrusted_and_default_location() -> None:
    doc = openapi(
        {"/m": {"get": _op(operationId="m")}},
        info={"title": "Portal", "version": "1", "x-paddock-trust": "untrusted"},
    )
    tool = one(doc)
    assert tool.trust is Trust.UNTRUSTED and tool.location is Location.EXTERNAL
    assert tool.drift_mode == "pause"


SCHEMES: dict[str, Any] = {
    "sigv4": {
        "type": "apiKey",
        "name": "Authorization",
        "in": "header",
        "x-amazon-apigateway-authtype": "awsSigv4",
    },
    "key": {"type": "apiKey", "name": "X-Api-Key", "in": "query"},
    "jwt": {"type": "http", "scheme": "bearer"},
    "machine": {
        "type": "oauth2",
        "flows": {
            "clientCredentials": {
                "tokenUrl": "https://login.example/token",
                "scopes": {"erp.read": "read"},
            }
        },
    },
    "aad": {
        "type": "openIdConnect",
        "openIdConnectUrl": "https://login.example/.well-known",
        "x-paddock-auth": "entra",
    },
    "basic": {"type": "http", "scheme": "basic"},
}


@pytest.mark.parametrize(
    ("requirement", "scheme", "extra"),
    [
        ([{"sigv4": []}], "aws_sigv4", {"service": "execute-api"}),
        ([{"key": []}], "api_key", {"location": "query", "param_name": "X-Api-Key"}),
        ([{"jwt": []}], "bearer", {}),
        ([{"machine": ["erp.read"]}], "oauth2_client_credentials", {"scopes": ("erp.read",)}),
        ([{"aad": []}], "entra", {}),
        ([{"basic": []}, {"jwt": []}], "bearer", {}),
        ([{"basic": []}], "basic", {}),
        ([], "none", {}),
    ],
)
def test_auth_from_security_schemes(
    requirement: list[Any], scheme: str, extra: dict[str, Any]
) -> None:
    doc = openapi(
        {"/x": {"get": _op(operationId="x", security=requirement)}},
        components={"securitySchemes": SCHEMES},
        security=[{"jwt": []}],
    )
    auth = one(doc).auth
    assert auth.scheme == scheme
    for key, value in extra.items():
        assert getattr(auth, key) == value


def test_x_paddock_auth_overrides() -> None:
    doc = openapi(
        {
            "/erp": {
                "get": _op(
                    operationId="erp",
                    **{
                        "x-paddock-auth": {
                            "scheme": "entra",
                            "audience": "api://erp",
                            "scopes": ["a/.default"],
                        }
                    },
                )
            },
            "/aws": {"get": _op(operationId="aws")},
        },
        components={"securitySchemes": SCHEMES},
        security=[{"jwt": []}],
        **{"x-paddock-auth": "aws_sigv4"},
    )
    tools = {t.name: t for t in result_of(doc).tools}
    erp = tools["erp"].auth
    assert (erp.scheme, erp.audience, erp.scopes) == ("entra", "api://erp", ("a/.default",))
    assert (tools["aws"].auth.scheme, tools["aws"].auth.service) == ("aws_sigv4", "execute-api")


def test_swagger_security_definitions() -> None:
    doc = swagger(
        {"/x": {"get": _op(operationId="x")}},
        securityDefinitions={
            "app": {"type": "oauth2", "flow": "application", "tokenUrl": "https://t.example"}
        },
        security=[{"app": ["s1"]}],
    )
    auth = one(doc).auth
    assert (auth.scheme, auth.scopes) == ("oauth2_client_credentials", ("s1",))


def test_base_urls_from_servers_variables_and_overrides() -> None:
    doc = openapi(
        {
            "/x": {
                "get": _op(operationId="x"),
                "post": _op(operationId="y", servers=[{"url": "https://upload.example/"}]),
            }
        },
        servers=[
            {
                "url": "https://{region}.api.example/{version}/",
                "variables": {
                    "region": {"default": "eu"},
                    "version": {"enum": ["v2", "v1"], "default": "v2"},
                },
            }
        ],
    )
    tools = result_of(doc).tools
    assert [t.binding.base_url for t in tools] == [
        "https://eu.api.example/v2",
        "https://upload.example",
    ]
    override = import_document(doc, base_url="http://127.0.0.1:9/").tools
    assert {t.binding.base_url for t in override} == {"http://127.0.0.1:9"}


def test_relative_server_url_warns_when_read_from_a_file() -> None:
    doc = openapi({"/x": {"get": _op(operationId="x")}}, servers=[{"url": "/v1"}])
    result = import_document(doc, source="spec.yaml")
    assert result.tools[0].binding.base_url == "/v1"
    assert any("relative" in w for w in result.warnings)


def test_responses_by_status_code() -> None:
    item = {"type": "object", "properties": {"id": {"type": "string"}}}
    doc = openapi(
        {
            "/x": {
                "get": {
                    "operationId": "x",
                    "responses": {
                        200: {
                            "description": "ok",
                            "content": {"application/json": {"schema": item}},
                        },
                        "4xx": {"$ref": "#/components/responses/Problem"},
                        "204": {"description": "empty"},
                        "default": {
                            "description": "?",
                            "content": {"text/plain": {"schema": {"type": "string"}}},
                        },
                    },
                }
            }
        }
    )
    doc["components"] = {
        "responses": {
            "Problem": {
                "description": "p",
                "content": {
                    "application/problem+json": {
                        "schema": {"type": "object", "required": ["title"]}
                    }
                },
            }
        }
    }
    tool = one(doc)
    assert set(tool.responses) == {"200", "4XX"}
    assert tool.response_schema(200) == item
    assert tool.response_schema(404) == {"type": "object", "required": ["title"]}
    assert tool.response_schema(500) is None
