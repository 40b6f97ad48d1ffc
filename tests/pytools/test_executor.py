"""The Python executor: sync and async functions, the idempotency key, errors as data, and
no way to reach a function that was not decorated."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from core.catalog import Catalog
from core.catalog.python import python_tools
from core.domain import PythonBinding, Tool
from core.execution.base import CallContext
from core.execution.python import PythonExecutor
from examples.python_tools.procurement import LEDGER
from tests.pytools.tools import boom

CATALOG = Catalog.from_sources(["python:examples.python_tools.procurement"])


@pytest.fixture(autouse=True)
def ledger() -> Iterator[None]:
    LEDGER.reset()
    yield
    LEDGER.reset()


def ctx(key: str | None = None) -> CallContext:
    return CallContext(run_id="run_1", step_index=0, call_index=0, idempotency_key=key)


def test_a_sync_call_returns_json_and_is_validated() -> None:
    args = {"supplier": "S-100", "part": "P-1", "quantity": 3, "unit_price_eur": 2.5}
    result = PythonExecutor().execute(CATALOG.get("create_purchase_order"), args, ctx("k1"))
    assert result.ok and result.status_code == 200
    assert result.body["total_eur"] == 7.5 and result.valid is True


def test_the_idempotency_key_makes_a_replay_harmless() -> None:
    tool = CATALOG.get("create_purchase_order")
    args = {"supplier": "S-100", "part": "P-1", "quantity": 3, "unit_price_eur": 2.5}
    first = PythonExecutor().execute(tool, args, ctx("pdk-same"))
    again = PythonExecutor().execute(tool, args, ctx("pdk-same"))
    assert first.body == again.body
    assert len(LEDGER.orders) == 1


def test_an_async_tool_runs_from_sync_and_from_inside_an_event_loop() -> None:
    tool = CATALOG.get("pay_invoice")
    args = {"invoice": "INV-1", "amount_eur": 10.0, "iban": "NL91ABNA0417164300"}
    assert PythonExecutor().execute(tool, args, ctx()).body["status"] == "paid"

    async def inside() -> Any:
        return PythonExecutor().execute(tool, args, ctx())

    assert asyncio.run(inside()).ok
    assert len(LEDGER.payments) == 2


def test_bad_arguments_are_refused_before_the_function_runs() -> None:
    tool = CATALOG.get("create_purchase_order")
    args = {"supplier": "S-100", "part": "P-1", "quantity": 0, "unit_price_eur": 2.5}
    result = PythonExecutor().execute(tool, args, ctx())
    assert result.refused is not None and "quantity" in result.refused
    assert LEDGER.orders == {}


def test_an_exception_is_a_500_result() -> None:
    tool = CATALOG.get("pay_invoice")
    result = PythonExecutor().execute(tool, {"invoice": "x"}, ctx())
    assert result.refused is not None  # missing arguments never reach the function
    (broken,) = python_tools(boom)
    result = PythonExecutor().execute(broken, {}, ctx())
    assert result.status_code == 500 and result.error == "RuntimeError: the service is down"
    assert result.retryable  # a read tool: trying again cannot repeat a side effect


def test_a_binding_to_an_undecorated_callable_is_refused() -> None:
    # A tool record tampered to point at os.system must never run it.
    tool = Tool(
        name="innocent",
        description="x",
        args_schema={"type": "object"},
        binding=PythonBinding(target="os:system"),
    )
    result = PythonExecutor().execute(tool, {"command": "touch /tmp/pwned"}, ctx())
    assert result.refused is not None and "not a function decorated" in result.refused


def test_the_capability_verifier_is_asked_first() -> None:
    class Refuse:
        def verify(self, tool: Tool, args: dict[str, Any], ctx: CallContext) -> str | None:
            return "no capability token"

    result = PythonExecutor(Refuse()).execute(
        CATALOG.get("delete_supplier"), {"supplier": "S-200"}, ctx()
    )
    assert result.refused == "no capability token" and LEDGER.deleted == []
