"""The scenario as the platform sees it: imported by the catalog, called by the executor."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from core.catalog import Catalog
from core.domain import Tool
from core.execution.base import CallContext
from core.execution.http import HttpExecutor
from examples.supply_chain import SupplyChainServices, spec_paths

PO = {
    "part": "P-100",
    "plant": "DE01",
    "quantity": 500,
    "vendor_id": "V-2001",
    "unit_price": 61.5,
    "currency": "EUR",
    "quote_id": "Q-100001",
}


@pytest.fixture()
def tools(services: SupplyChainServices) -> dict[str, Tool]:
    catalog = Catalog.from_sources([str(p) for p in spec_paths()], base_urls=services.base_urls)
    return {tool.name: tool for tool in catalog.tools}


@pytest.fixture()
def executor() -> Iterator[HttpExecutor]:
    with HttpExecutor() as ex:
        yield ex


def test_catalog_sees_clouds_side_effects_trust_and_auth(
    tools: dict[str, Tool], services: SupplyChainServices
) -> None:
    assert len(tools) == 11
    summary = {
        name: (t.location.value, t.side_effect.value, t.trust.value, t.auth.scheme)
        for name, t in tools.items()
    }
    assert summary["get_stock"] == ("azure", "read", "trusted", "entra")
    assert summary["delete_vendor"] == ("azure", "destructive", "trusted", "entra")
    assert summary["create_purchase_order"] == ("azure", "write", "trusted", "entra")
    assert summary["list_supplier_messages"] == ("aws", "read", "untrusted", "aws_sigv4")
    assert summary["request_quote"] == ("aws", "write", "trusted", "aws_sigv4")
    assert summary["get_risk_score"] == ("external", "read", "trusted", "api_key")
    assert tools["get_stock"].auth.audience == "api://paddock-erp"
    assert tools["get_risk_score"].auth.param_name == "X-Api-Key"
    assert tools["get_risk_score"].binding.base_url == services.by_key["risk"]
    assert all(not t.warnings for t in tools.values())


def run(executor: HttpExecutor, tool: Tool, args: dict[str, Any], step: int) -> Any:
    result = executor.execute(
        tool, args, CallContext(run_id="r-cat", step_index=step, call_index=0)
    )
    assert result.valid is True, result.validation_errors
    return result


def test_executor_walks_the_story_and_a_replayed_step_writes_once(
    tools: dict[str, Tool], executor: HttpExecutor, services: SupplyChainServices
) -> None:
    stock = run(executor, tools["get_stock"], {"plant": "DE01", "part": "P-100"}, 0)
    assert stock.body["available"] == 0
    risk = run(executor, tools["get_risk_score"], {"supplier_id": "V-3002"}, 1)
    assert risk.body["level"] == "high"
    quote = run(
        executor,
        tools["request_quote"],
        {"body": {"supplier_id": "V-2001", "part": "P-100", "quantity": 500}},
        2,
    )
    assert quote.status_code == 201
    first = run(executor, tools["create_purchase_order"], {"body": PO}, 3)
    replay = run(executor, tools["create_purchase_order"], {"body": PO}, 3)
    assert replay.body == first.body
    assert services.erp.counts["purchase_orders"] == 1
    posts = services.erp.requests_for("POST", "/purchase-orders")
    assert [p.replayed for p in posts] == [False, True]
    assert posts[0].headers["idempotency-key"] == posts[1].headers["idempotency-key"]
