"""``@paddock.tool``: the schema comes from the signature, the labels from the author."""

from __future__ import annotations

from typing import Annotated

import pytest
from pydantic import Field

import paddock
from core.catalog import Catalog
from core.catalog.python import python_tools
from core.domain import PythonBinding, SideEffect, Trust
from core.domain.pytool import marked
from core.errors import SpecError
from examples.python_tools import procurement

SOURCE = "python:examples.python_tools.procurement"


def test_the_schema_comes_from_the_signature_and_the_key_is_hidden() -> None:
    found = marked(procurement.create_purchase_order)
    assert found is not None
    schema = found.args_schema
    assert schema["required"] == ["supplier", "part", "quantity", "unit_price_eur"]
    assert "idempotency_key" not in schema["properties"]
    assert schema["properties"]["quantity"]["minimum"] == 1
    assert schema["additionalProperties"] is False
    assert found.takes_key and not found.is_async
    assert found.side_effect is SideEffect.WRITE
    assert found.description.startswith("Create a purchase order")
    assert found.result_schema is not None and "order_id" in found.result_schema["properties"]


def test_the_decorated_function_stays_callable() -> None:
    assert procurement.list_suppliers()[0]["id"] == "S-100"


def test_a_module_source_lists_every_decorated_function_in_order() -> None:
    catalog = Catalog.from_sources([SOURCE])
    assert catalog.names == [
        "list_suppliers",
        "read_inbox",
        "create_purchase_order",
        "pay_invoice",
        "delete_supplier",
    ]
    inbox = catalog.get("read_inbox")
    assert inbox.trust is Trust.UNTRUSTED
    assert inbox.binding == PythonBinding(target="examples.python_tools.procurement:read_inbox")
    assert catalog.get("delete_supplier").side_effect is SideEffect.DESTRUCTIVE
    assert catalog.specs[0].format == "python"


def test_one_function_by_import_path() -> None:
    catalog = Catalog.from_sources([SOURCE + ":pay_invoice"])
    assert catalog.names == ["pay_invoice"]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("python:os:system", "not a function decorated"),
        ("python:subprocess", "has no functions decorated"),
        ("python:no_such_module_here", "cannot import"),
        ("python:examples.python_tools.procurement:LEDGER", "not a function decorated"),
    ],
)
def test_only_decorated_functions_are_reachable(source: str, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        Catalog.from_sources([source])


def test_tools_in_code() -> None:
    @paddock.tool(name="add", side_effect="read")
    def add_numbers(a: int, b: Annotated[int, Field(description="second")] = 2) -> int:
        """Add two numbers."""
        return a + b

    catalog = Catalog(python_tools(add_numbers))
    tool = catalog.get("add")
    assert tool.args_schema["properties"]["b"]["description"] == "second"
    assert tool.args_schema["required"] == ["a"]
    with pytest.raises(SpecError, match="not a function decorated"):
        python_tools(len)


def test_bad_declarations_are_one_line_errors() -> None:
    with pytest.raises(SpecError, match="'sometimes' is not a valid SideEffect"):

        @paddock.tool(side_effect="sometimes")
        def a(x: int) -> int:
            return x

    with pytest.raises(SpecError, match="parameter 'x' has no type annotation"):

        @paddock.tool
        def b(x) -> int:  # type: ignore[no-untyped-def]
            return 1

    with pytest.raises(SpecError, match=r"\*args"):

        @paddock.tool
        def c(*x: int) -> int:
            return 1


def test_a_bundle_of_python_tools_validates_and_shows_the_authors_labels() -> None:
    from core.bundles import describe, load_bundle
    from tests.pytools.bundle import BUNDLE

    shown = describe(load_bundle(BUNDLE))
    tools = {t["name"]: t for t in shown["tools"]}
    assert tools["read_inbox"]["trust"] == "untrusted"
    assert tools["delete_supplier"]["side_effect"] == "destructive"
    assert [r["id"] for r in shown["rules"]] == ["catalog_calls", "large_purchase_order"]
    assert shown["warnings"] == []  # trust is the author's word, not a vendor's spec
