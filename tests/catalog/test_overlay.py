"""OpenAPI Overlay 1.0: targets, updates, removals, and bad overlays as one-line errors."""

from __future__ import annotations

from typing import Any

import pytest

from core.catalog import apply_overlay, import_document
from core.catalog.overlay import parse_target
from core.errors import SpecError
from tests.catalog.helpers import openapi


def _doc() -> dict[str, Any]:
    op = {"operationId": "getA", "responses": {"200": {"description": "ok"}}}
    return openapi({"/a/{id}": {"get": op, "post": {**op, "operationId": "postA"}}})


def _overlay(*actions: dict[str, Any]) -> dict[str, Any]:
    return {"overlay": "1.0.0", "info": {"title": "t", "version": "1"}, "actions": list(actions)}


def test_targets() -> None:
    assert parse_target("$") == []
    assert parse_target("$.paths['/a/{id}'].get") == ["paths", "/a/{id}", "get"]
    assert parse_target('$.paths["/a"][*]') == ["paths", "/a", "*"]
    assert parse_target("$.info.x-paddock-trust") == ["info", "x-paddock-trust"]
    with pytest.raises(SpecError, match="must start with"):
        parse_target("paths")
    with pytest.raises(SpecError, match="not supported"):
        parse_target("$..get")


def test_update_merges_and_wildcards_reach_every_operation() -> None:
    doc = _doc()
    overlay = _overlay(
        {"target": "$.paths['/a/{id}'].*", "update": {"x-paddock-side-effect": "read"}},
        {"target": "$.info", "update": {"x-paddock-trust": "untrusted"}},
        {"target": "$.paths.missing", "update": {"x": 1}},  # selects nothing: no-op
    )
    result = apply_overlay(doc, overlay)
    tools = import_document(result).tools
    assert {t.side_effect.value for t in tools} == {"read"}
    assert {t.trust.value for t in tools} == {"untrusted"}
    assert "x-paddock-side-effect" not in doc["paths"]["/a/{id}"]["get"]  # input untouched


def test_remove_and_root_update() -> None:
    overlay = _overlay(
        {"target": "$.paths['/a/{id}'].post", "remove": True},
        {"target": "$", "update": {"security": [{"k": []}]}},
        {
            "target": "$",
            "update": {
                "components": {
                    "securitySchemes": {"k": {"type": "apiKey", "in": "header", "name": "K"}}
                }
            },
        },
    )
    tools = import_document(apply_overlay(_doc(), overlay)).tools
    assert [t.name for t in tools] == ["getA"]
    assert (tools[0].auth.scheme, tools[0].auth.param_name) == ("api_key", "K")


@pytest.mark.parametrize(
    ("overlay", "message"),
    [
        ({"actions": []}, "not an OpenAPI Overlay"),
        ({"overlay": "1.0.0"}, "no 'actions' list"),
        ({"overlay": "1.0.0", "actions": [{"update": {}}]}, "has no 'target'"),
    ],
)
def test_bad_overlays(overlay: dict[str, Any], message: str) -> None:
    with pytest.raises(SpecError, match=message):
        apply_overlay(_doc(), overlay)
