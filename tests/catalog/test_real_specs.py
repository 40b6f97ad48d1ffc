"""Every real spec under tests/data/specs imports, with the right operation count and valid
Draft 2020-12 schemas."""

from __future__ import annotations

import hashlib
import json
import re
import time
from functools import cache

import pytest

from core.catalog import Catalog, ImportResult, import_spec, to_openai_tools
from core.domain import ParamLocation
from tests.catalog.helpers import SPECS, assert_consistent, check_schemas

EXPECTED = {  # operations (path x method), from the shared INDEX
    "spapi_vendorOrders.json": ("swagger-2.0", 4),
    "spapi_vendorShipments.json": ("swagger-2.0", 4),
    "spapi_fbaInventory.json": ("swagger-2.0", 4),
    "spapi_supplySources_2020-07-01.json": ("swagger-2.0", 6),
    "spapi_shippingV2.json": ("swagger-2.0", 20),
    "xero_accounting.yaml": ("openapi-3.0", 235),
    "stripe_spec3.json.gz": ("openapi-3.0", 417),
}
NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


@cache
def imported(name: str) -> tuple[ImportResult, float]:
    start = time.perf_counter()
    result = import_spec(str(SPECS / name))
    return result, time.perf_counter() - start


def test_every_shared_spec_is_covered() -> None:
    assert sorted(p.name for p in SPECS.iterdir() if p.name != "README.md") == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_imports_every_operation_with_valid_schemas(name: str) -> None:
    result, _ = imported(name)
    fmt, count = EXPECTED[name]
    assert result.spec.format == fmt
    assert len(result.tools) == count
    names = [t.name for t in result.tools]
    assert len(set(names)) == count
    assert all(NAME.match(n) for n in names)
    check_schemas([tool.args_schema for tool in result.tools])
    for tool in result.tools:
        assert_consistent(tool)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_response_schemas_are_valid(name: str) -> None:
    result, _ = imported(name)
    tools = result.tools
    if name.startswith("stripe"):  # 2 MB of distinct schema: every 8th tool keeps this fast
        tools = tools[::8]
    schemas = [s for tool in tools for s in tool.responses.values()]
    assert check_schemas(schemas) >= len(tools)


def test_recursive_responses_carry_their_defs() -> None:
    result, _ = imported("stripe_spec3.json.gz")
    customer = next(t for t in result.tools if t.name == "GetCustomersCustomer")
    schema = customer.response_schema(200)
    assert schema is not None and "$defs" in schema  # Stripe's objects recurse
    refs = set(re.findall(r'"#/\$defs/([^"]+)"', json.dumps(schema)))
    assert refs and refs <= set(schema["$defs"])


def test_stripe_import_time(capsys: pytest.CaptureFixture[str]) -> None:
    imported.cache_clear()
    result, seconds = imported("stripe_spec3.json.gz")
    with capsys.disabled():
        print(
            f"\n[catalog] stripe_spec3.json (4.0 MiB, {len(result.tools)} operations) "
            f"imported in {seconds:.2f} s"
        )
    assert len(result.tools) == 417


def test_sha256_is_of_the_decompressed_document() -> None:
    result, _ = imported("stripe_spec3.json.gz")
    assert result.spec.sha256 == "0623034db1e5a471369edf211838df328296018cc96dcb4bab0d5c28ab1efc9e"
    orders, _ = imported("spapi_vendorOrders.json")
    raw = (SPECS / "spapi_vendorOrders.json").read_bytes()
    assert orders.spec.sha256 == hashlib.sha256(raw).hexdigest()


def test_duplicate_operation_id_in_shipping_is_made_unique_with_a_warning() -> None:
    result, _ = imported("spapi_shippingV2.json")
    names = [t.name for t in result.tools if t.binding.operation_id == "linkCarrierAccount"]
    assert sorted(names) == ["linkCarrierAccount", "linkCarrierAccount_2"]
    assert any("linkCarrierAccount" in w and "twice" in w for w in result.warnings)


def test_swagger_spapi_operation_details() -> None:
    result, _ = imported("spapi_vendorOrders.json")
    tool = next(t for t in result.tools if t.name == "getPurchaseOrder")
    assert tool.binding.method == "GET"
    assert tool.binding.path == "/vendor/orders/v1/purchaseOrders/{purchaseOrderNumber}"
    assert tool.binding.base_url == "https://sellingpartnerapi-na.amazon.com"
    param = next(p for p in tool.binding.params if p.arg == "purchaseOrderNumber")
    assert param.location is ParamLocation.PATH and param.required
    listing = next(t for t in result.tools if t.name == "getPurchaseOrders")
    limit = listing.args_schema["properties"]["limit"]
    assert (limit["minimum"], limit["maximum"]) == (1, 100)
    assert "200" in tool.responses


def test_xero_headers_bodies_and_auth() -> None:
    result, _ = imported("xero_accounting.yaml")
    tools = {t.name: t for t in result.tools}
    create = tools["createPurchaseOrders"]
    assert create.binding.base_url == "https://api.xero.com/api.xro/2.0"
    assert create.binding.body_content_type == "application/json"
    tenant = next(p for p in create.binding.params if p.name == "xero-tenant-id")
    assert tenant.location is ParamLocation.HEADER and tenant.required
    assert create.auth.scheme == "oauth2_refresh_token"  # authorization code: refreshed
    assert create.auth.token_url == "https://identity.xero.com/connect/token"
    assert "accounting.transactions" in create.auth.scopes
    # attachments are octet-stream uploads declared `format: byte`: base64 text, sent as is
    uploads = [t for t in result.tools if t.binding.body_content_type == "application/octet-stream"]
    assert len(uploads) == 22
    for tool in uploads:
        assert not tool.binding.body_file
        assert tool.args_schema["properties"]["body"]["format"] == "byte"


def test_stripe_form_bodies_carry_their_schema_and_encoding() -> None:
    result, _ = imported("stripe_spec3.json.gz")
    tools = {t.name: t for t in result.tools}
    customers = tools["PostCustomers"]
    body = customers.args_schema["properties"]["body"]
    assert {"metadata", "address", "expand", "email"} <= set(body["properties"])
    assert customers.binding.body_content_type == "application/x-www-form-urlencoded"
    styles = {p.name: (p.style, p.explode) for p in customers.binding.body_parts}
    assert styles["metadata"] == ("deepObject", True)
    assert customers.warnings == ()
    assert tools["PostFiles"].binding.body_content_type == "multipart/form-data"
    assert not any("not supported" in w for w in result.all_warnings())
    assert tools["GetBalance"].warnings == ()
    assert tools["GetBalance"].auth.scheme == "bearer"  # basic is listed first; bearer is known


def test_all_specs_in_one_catalog_have_unique_names() -> None:
    catalog = Catalog.from_sources([str(SPECS / n) for n in sorted(EXPECTED)])
    assert len(catalog) == sum(count for _, count in EXPECTED.values())
    assert len(set(catalog.names)) == len(catalog)
    assert len(catalog.specs) == len(EXPECTED)
    exported = to_openai_tools(catalog.tools)
    assert len(exported) == len(catalog)
    assert all(len(t["function"]["description"]) <= 1024 for t in exported)
