"""Loading specs from files and URLs: formats, failures as one clear SpecError, $ref files."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from core.catalog import detect_format, import_spec, load_document
from core.errors import SpecError
from paddock.local.servers import LocalServer, free_port
from tests.catalog.helpers import accepts, openapi, write

MINIMAL = openapi(
    {"/ping": {"get": {"operationId": "ping", "responses": {"200": {"description": "ok"}}}}}
)


def _error(source: str) -> str:
    with pytest.raises(SpecError) as caught:
        load_document(source)
    message = str(caught.value)
    assert "\n" not in message and "Traceback" not in message
    return message


def test_missing_file(tmp_path: Path) -> None:
    assert "spec not found" in _error(str(tmp_path / "nope.yaml"))


def test_directory_is_not_a_spec(tmp_path: Path) -> None:
    assert "not a file" in _error(str(tmp_path))


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("openapi: 3.0.0\ninfo:\n  title: [unclosed\npaths: {}\n")
    message = _error(str(path))
    assert "invalid YAML" in message and "line" in message


def test_json_syntax_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"openapi": "3.0.0", "paths": {,}}')
    assert "invalid YAML/JSON" in _error(str(path))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- just\n- a list\n", "not an OpenAPI or Swagger document"),
        ("title: not a spec\n", "no 'openapi' or 'swagger' field"),
        ("", "not an OpenAPI or Swagger document"),
        ("swagger: '1.2'\npaths: {}\n", "unsupported Swagger version"),
        ("openapi: 4.0.0\npaths: {}\n", "unsupported OpenAPI version"),
        ("openapi: 3.0.0\npaths: [1, 2]\n", "'paths' is not a mapping"),
    ],
)
def test_not_a_spec(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "thing.yaml"
    path.write_text(text)
    assert expected in _error(str(path))


@pytest.mark.parametrize(
    ("doc", "fmt"),
    [
        ({"swagger": "2.0", "paths": {}}, "swagger-2.0"),
        ({"openapi": "3.0.3", "paths": {}}, "openapi-3.0"),
        ({"openapi": "3.1.0", "paths": {}}, "openapi-3.1"),
    ],
)
def test_detect_format(doc: dict[str, object], fmt: str) -> None:
    assert detect_format(doc) == fmt


def test_json_yaml_and_gzip_load_the_same(tmp_path: Path) -> None:
    as_json = tmp_path / "s.json"
    as_json.write_text(json.dumps(MINIMAL))
    as_gz = tmp_path / "s.json.gz"
    as_gz.write_bytes(gzip.compress(as_json.read_bytes()))
    as_yaml = write(tmp_path, MINIMAL, "s.yaml")
    docs = [load_document(str(p))[0] for p in (as_json, as_gz, as_yaml)]
    assert docs[0] == docs[1] == docs[2] == MINIMAL
    assert load_document(str(as_gz))[1] == as_json.read_bytes()


def test_yaml_dates_stay_strings(tmp_path: Path) -> None:
    path = tmp_path / "dated.yaml"
    path.write_text("swagger: '2.0'\ninfo: {title: Dated, version: 2020-07-01}\npaths: {}\n")
    result = import_spec(str(path))
    assert result.spec.version == "2020-07-01"


def test_relative_file_refs_including_a_cycle_across_files(tmp_path: Path) -> None:
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "tree.yaml").write_text(
        yaml.safe_dump(
            {
                "Tree": {
                    "type": "object",
                    "required": ["label"],
                    "properties": {
                        "label": {"$ref": "../common.yaml#/Label"},
                        "kids": {"type": "array", "items": {"$ref": "#/Tree"}},
                    },
                }
            }
        )
    )
    (tmp_path / "common.yaml").write_text(
        yaml.safe_dump({"Label": {"type": "string", "maxLength": 5}})
    )
    doc = openapi(
        {
            "/t": {
                "post": {
                    "operationId": "plant",
                    "responses": {"200": {"description": "ok"}},
                    "requestBody": {
                        "content": {
                            "application/json": {"schema": {"$ref": "schemas/tree.yaml#/Tree"}}
                        }
                    },
                }
            }
        }
    )
    tool = import_spec(write(tmp_path, doc)).tools[0]
    assert tool.args_schema["properties"]["body"] == {"$ref": "#/$defs/Tree"}
    assert accepts(tool, {"body": {"label": "a", "kids": [{"label": "b", "kids": []}]}})
    assert not accepts(tool, {"body": {"label": "a", "kids": [{"label": "toolong"}]}})


@pytest.mark.usefixtures("warn_refs")
def test_missing_ref_file_is_a_warning(tmp_path: Path) -> None:
    doc = openapi(
        {
            "/t": {
                "post": {
                    "operationId": "t",
                    "responses": {"200": {"description": "ok"}},
                    "requestBody": {
                        "content": {"application/json": {"schema": {"$ref": "gone.yaml#/X"}}}
                    },
                }
            }
        }
    )
    tool = import_spec(write(tmp_path, doc)).tools[0]
    assert any("gone.yaml" in w for w in tool.warnings)


class _SpecSite:
    """Serves a spec (relative server URL, a $ref to a second file) over real HTTP."""

    def __init__(self) -> None:
        spec = openapi(
            {
                "/items/{id}": {
                    "get": {
                        "operationId": "getItem",
                        "parameters": [
                            {
                                "name": "id",
                                "in": "path",
                                "required": True,
                                "schema": {"type": "string"},
                            }
                        ],
                        "responses": {
                            "200": {
                                "description": "ok",
                                "content": {
                                    "application/json": {"schema": {"$ref": "models.json#/Item"}}
                                },
                            }
                        },
                    }
                }
            },
            servers=[{"url": "/api"}],
        )
        self.files = {
            "spec.yaml": yaml.safe_dump(spec),
            "models.json": json.dumps({"Item": {"type": "object", "required": ["id"]}}),
        }
        self.app = Starlette(routes=[Route("/specs/{name}", self.serve)])

    async def serve(self, request: Request) -> Response:
        body = self.files.get(request.path_params["name"])
        if body is None:
            return PlainTextResponse("no such spec", status_code=404)
        return PlainTextResponse(body)


@pytest.fixture(scope="module")
def site() -> Iterator[LocalServer]:
    with LocalServer(_SpecSite().app, name="spec-site") as server:
        yield server


def test_load_from_url_with_relative_ref_and_server(site: LocalServer) -> None:
    url = f"{site.url}/specs/spec.yaml"
    result = import_spec(url)
    tool = result.tools[0]
    assert result.spec.source == url
    assert tool.binding.base_url == f"{site.url}/api"
    assert tool.response_schema(200) == {"type": "object", "required": ["id"]}
    assert result.warnings == []


@pytest.mark.usefixtures("warn_refs")
def test_remote_spec_cannot_ref_local_files_or_other_hosts(site: LocalServer) -> None:
    other = _SpecSite()
    with LocalServer(other.app, name="other-host") as elsewhere:
        spec = openapi(
            {
                "/a": {
                    "get": {
                        "operationId": "a",
                        "responses": {
                            "200": {
                                "description": "ok",
                                "content": {
                                    "application/json": {
                                        "schema": {
                                            "$ref": f"{elsewhere.url}/specs/models.json#/Item"
                                        }
                                    }
                                },
                            }
                        },
                    }
                },
                "/b": {
                    "get": {
                        "operationId": "b",
                        "responses": {
                            "200": {
                                "description": "ok",
                                "content": {
                                    "application/json": {
                                        "schema": {"$ref": "file:///etc/hostname#/x"}
                                    }
                                },
                            }
                        },
                    }
                },
            }
        )
        site_app = _SpecSite()
        site_app.files["evil.yaml"] = yaml.safe_dump(spec)
        with LocalServer(site_app.app, name="evil-site") as evil:
            result = import_spec(f"{evil.url}/specs/evil.yaml")
    warnings = {t.name: " ".join(t.warnings) for t in result.tools}
    assert "outside the spec's origin" in warnings["a"] and elsewhere.url in warnings["a"]
    assert "outside the spec's origin" in warnings["b"]
    assert "file:///etc/hostname" in warnings["b"]
    assert all(t.response_schema(200) == {} for t in result.tools)  # nothing was read


def test_url_not_found(site: LocalServer) -> None:
    assert "HTTP 404" in _error(f"{site.url}/specs/missing.yaml")


def test_url_unreachable() -> None:
    assert "cannot fetch spec" in _error(f"http://127.0.0.1:{free_port()}/spec.yaml")
