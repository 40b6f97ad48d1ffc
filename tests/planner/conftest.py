"""Fixtures: a few hand-made tools and a scripted OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
from openai import OpenAI

from core.domain import Location, SideEffect, Trust
from core.planner.base import PlanContext
from core.planner.openai_planner import OpenAIPlanner
from core.planner.pricing import Price, PriceTable
from paddock.testing.fake_openai import ScriptedOpenAI, Turn
from tests.tools import http_tool

STOCK = http_tool(
    name="get_stock",
    operation_id="getStock",
    description="Stock of a part at a plant.",
    args_schema={
        "type": "object",
        "properties": {
            "part": {"type": "string", "pattern": "^P-[0-9]{3}$"},
            "plant": {"type": "string", "enum": ["DE01", "US02"]},
        },
        "required": ["part", "plant"],
        "additionalProperties": False,
    },
    params=(),
    method="GET",
    path="/stock/{part}",
    base_url="http://127.0.0.1:9",
    location=Location.AZURE,
)
ORDER = http_tool(
    name="create_purchase_order",
    operation_id="createPurchaseOrder",
    description="Create a purchase order.",
    args_schema={
        "type": "object",
        "properties": {
            "body": {
                "type": "object",
                "properties": {
                    "vendor_id": {"type": "string"},
                    "quantity": {"type": "integer", "minimum": 1, "maximum": 10000},
                },
                "required": ["vendor_id", "quantity"],
                "additionalProperties": False,
            }
        },
        "required": ["body"],
        "additionalProperties": False,
    },
    params=(),
    method="POST",
    path="/orders",
    base_url="http://127.0.0.1:9",
    location=Location.AZURE,
    side_effect=SideEffect.WRITE,
)
INBOX = http_tool(
    name="read_messages",
    operation_id="readMessages",
    description="Supplier messages.",
    args_schema={"type": "object", "properties": {}, "additionalProperties": False},
    params=(),
    method="GET",
    path="/messages",
    base_url="http://127.0.0.1:9",
    location=Location.AWS,
    trust=Trust.UNTRUSTED,
)
TOOLS = [STOCK, ORDER, INBOX]

PRICES = PriceTable({"gpt-test": Price(prompt=1.0, completion=4.0)})
"""USD per 1M tokens: round numbers so the expected cost is easy to compute."""


@pytest.fixture
def ctx() -> PlanContext:
    return PlanContext(
        run_id="run-1", goal="Source 500 units of part P-100 for plant DE01", tools=list(TOOLS)
    )


@pytest.fixture
def serve() -> Iterator[Callable[..., ScriptedOpenAI]]:
    """``serve(script, **options)``: a started ``ScriptedOpenAI``, stopped after the test."""
    started: list[ScriptedOpenAI] = []

    def start(script: Sequence[Turn] = (), **options: Any) -> ScriptedOpenAI:
        server = ScriptedOpenAI(script, **options).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def make_planner(server: ScriptedOpenAI, **options: Any) -> OpenAIPlanner:
    """The planner under test, on the real ``openai`` client, pointed at ``server``."""
    options.setdefault("price_table", PRICES)
    client = OpenAI(base_url=server.base_url, api_key="test-key")
    return OpenAIPlanner(client, "gpt-test", **options)
