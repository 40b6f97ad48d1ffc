"""``$ref`` resolution: documents through the registry, pointers, and where it refuses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from core.catalog import import_document, import_spec
from core.catalog._refs import Documents, RefError, unresolvable
from core.catalog.loader import load_document
from core.errors import SpecError
from tests.catalog.helpers import accepts, openapi, post_body, write


def test_refs_into_files_whose_names_need_escaping(tmp_path: Path) -> None:
    folder = tmp_path / "shared models"
    folder.mkdir()
    (folder / "part #1.json").write_text(json.dumps({"Part": {"type": "string", "maxLength": 3}}))
    doc = openapi(post_body({"$ref": "shared%20models/part%20%231.json#/Part"}))
    tool = import_spec(write(tmp_path, doc)).tools[0]
    assert tool.warnings == ()
    assert accepts(tool, {"body": "abc"}) and not accepts(tool, {"body": "abcd"})


def test_pointers_reach_yaml_integer_keys(tmp_path: Path) -> None:
    (tmp_path / "shared.yaml").write_text(
        "responses:\n  200:\n    schema: {type: object, required: [id]}\n"
    )
    doc = openapi(post_body({"$ref": "shared.yaml#/responses/200/schema"}))
    tool = import_spec(write(tmp_path, doc)).tools[0]
    assert tool.args_schema["properties"]["body"] == {"type": "object", "required": ["id"]}


@pytest.mark.usefixtures("warn_refs")
def test_a_document_read_from_nowhere_cannot_ref_files() -> None:
    result = import_document(openapi(post_body({"$ref": "models.yaml#/Thing"})))
    [warning] = result.tools[0].warnings
    assert "$ref 'models.yaml#/Thing': no base location to read 'models.yaml' from" in warning
    assert result.tools[0].args_schema["properties"]["body"] == {}


@pytest.mark.usefixtures("warn_refs")
def test_anchors_and_other_schemes_are_refused(tmp_path: Path) -> None:
    doc = openapi(post_body({"$ref": "#thing"}), schemas={"X": {"type": "string"}})
    assert "anchors are not supported" in " ".join(import_document(doc).tools[0].warnings)
    doc = openapi(post_body({"$ref": "ftp://example.test/x.yaml#/X"}))
    warnings = " ".join(import_spec(write(tmp_path, doc)).tools[0].warnings)
    assert "only files and http(s) URLs are followed" in warnings


@pytest.mark.usefixtures("warn_refs")
def test_each_document_is_read_once_even_when_it_is_missing(tmp_path: Path) -> None:
    reads: list[str] = []

    def loader(location: str) -> Any:
        reads.append(Path(location).name)
        if location.endswith("gone.yaml"):
            raise SpecError(f"spec not found: {location}")
        return {"A": {"type": "string"}, "B": {"$ref": "#/A"}}

    spec = tmp_path / "spec.yaml"
    docs = Documents({}, str(spec), loader=loader)
    base = docs.root_uri
    for _ in range(3):
        (uri, pointer), target = docs.resolve("models.yaml#/B", base)
        assert target == {"$ref": "#/A"} and pointer == "/B"
        assert docs.follow(target, uri)[0] == {"type": "string"}
        with pytest.raises(RefError, match=r"spec not found: .*gone\.yaml"):
            docs.resolve("gone.yaml#/X", base)
    assert sorted(reads) == ["gone.yaml", "models.yaml"]
    assert uri == (tmp_path / "models.yaml").as_uri()


@pytest.mark.usefixtures("warn_refs")
def test_a_circular_chain_is_unresolvable() -> None:
    docs = Documents({"a": {"$ref": "#/b"}, "b": {"$ref": "#/a"}}, "<document>")
    with pytest.raises(RefError, match="chain too long or circular"):
        docs.follow({"$ref": "#/a"}, docs.root_uri)
    assert docs.is_recursive((docs.root_uri, "/a"))


@pytest.mark.usefixtures("warn_refs")
def test_one_place_decides_what_an_unresolvable_ref_is() -> None:
    with pytest.raises(RefError, match=r"^\$ref '#/x': 'x' not found$"):
        unresolvable("#/x", "'x' not found")


def test_yaml_and_json_files_refer_to_each_other(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(json.dumps({"A": {"$ref": "b.yaml#/B"}}))
    (tmp_path / "b.yaml").write_text(yaml.safe_dump({"B": {"type": "integer", "minimum": 2}}))
    source = write(tmp_path, openapi(post_body({"$ref": "a.json#/A"})))
    document, _ = load_document(source)
    tool = import_document(document, source=source).tools[0]
    assert tool.args_schema["properties"]["body"] == {"type": "integer", "minimum": 2}
