"""Where a tool's drift mode comes from: ``x-paddock-drift`` on the operation, the document
root or ``info`` (first found wins); anything else falls back to ``pause`` with a warning."""

from __future__ import annotations

from core.catalog import import_document
from tests.catalog.helpers import openapi


def modes(doc: dict[str, object]) -> dict[str, str]:
    return {t.name: t.drift_mode for t in import_document(doc).tools}


def op(op_id: str, **extra: object) -> dict[str, object]:
    return {"operationId": op_id, "responses": {"200": {"description": "ok"}}, **extra}


def test_default_is_pause() -> None:
    assert modes(openapi({"/a": {"get": op("a")}})) == {"a": "pause"}


def test_operation_overrides_document_and_info() -> None:
    doc = openapi({"/a": {"get": op("a", **{"x-paddock-drift": "fail"})}, "/b": {"get": op("b")}})
    doc["info"]["x-paddock-drift"] = "warn"
    assert modes(doc) == {"a": "fail", "b": "warn"}
    doc["x-paddock-drift"] = "Pause"
    assert modes(doc) == {"a": "fail", "b": "pause"}


def test_unknown_mode_falls_back_to_pause_with_a_warning() -> None:
    doc = openapi({"/a": {"get": op("a", **{"x-paddock-drift": "ignore"})}})
    [tool] = import_document(doc).tools
    assert tool.drift_mode == "pause"
    assert any("x-paddock-drift 'ignore'" in w for w in tool.warnings)
