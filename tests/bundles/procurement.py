"""The procurement test bundle (tests/data/bundles/procurement, written from docs/bundles.md)
and a real local service that answers for its vendor API and records what reached it."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from paddock.local.servers import LocalServer
from paddock.testing.fake_openai import ScriptedOpenAI, TextReply, ToolCall, ToolCallsReply

BUNDLE = Path(__file__).resolve().parents[1] / "data" / "bundles" / "procurement"
TITLE = "Acme Procurement API"


class ProcurementService:
    """The vendor's API: suppliers, purchase orders; every request recorded."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, Any]] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.app = Starlette(
            routes=[
                Route("/suppliers", self._suppliers, methods=["GET"]),
                Route("/purchase-orders", self._create, methods=["POST"]),
                Route("/purchase-orders/{po_id}", self._delete, methods=["DELETE"]),
            ]
        )

    def orders(self) -> list[dict[str, Any]]:
        return [body for method, path, body in self.requests if method == "POST"]

    def deletes(self) -> list[str]:
        return [path for method, path, _ in self.requests if method == "DELETE"]

    async def _suppliers(self, request: Request) -> JSONResponse:
        self.requests.append(("GET", "/suppliers", dict(request.query_params)))
        return JSONResponse([{"id": "S-100", "name": "Nordic Parts", "unit_price_eur": 25}])

    async def _create(self, request: Request) -> JSONResponse:
        body = await request.json()
        with self._lock:
            self.requests.append(("POST", "/purchase-orders", body))
            order = {"id": f"PO-{next(self._ids)}", "status": "created"}
        return JSONResponse(order, status_code=201)

    async def _delete(self, request: Request) -> Response:
        self.requests.append(("DELETE", f"/purchase-orders/{request.path_params['po_id']}", None))
        return Response(status_code=204)


@contextmanager
def procurement_service() -> Iterator[tuple[ProcurementService, str]]:
    service = ProcurementService()
    with LocalServer(service.app) as server:
        yield service, server.url


def buyer_model() -> ScriptedOpenAI:
    """A model that orders what the goal says (25 EUR a unit) or deletes what it names, then
    reports; it plays any number of runs, one request at a time."""
    return ScriptedOpenAI(default=_turn)


def _turn(body: dict[str, Any]) -> ToolCallsReply | TextReply:
    messages = body["messages"]
    last = messages[-1]
    # A call the planner bounced as unknown is insisted on (a compromised model would), so it
    # reaches the guard; any other tool result ends the run.
    if last.get("role") == "tool" and not str(last.get("content")).startswith("ERROR: there is"):
        return TextReply("Done: see the tool results.")
    user = next(str(m["content"]) for m in messages if m.get("role") == "user")
    goal = user.splitlines()[0].removeprefix("Goal: ")
    if "Delete" in goal:
        po = goal.split()[-1]
        return ToolCallsReply([ToolCall("delete_purchase_order", {"po_id": po})])
    words = goal.split()
    quantity = int(words[words.index("Order") + 1])
    part = words[words.index("part") + 1]
    supplier = words[words.index("supplier") + 1]
    order: dict[str, Any] = {
        "supplier_id": supplier,
        "part": part,
        "quantity": quantity,
        "total_eur": quantity * 25,
    }
    if "compromised" in goal:  # a model that obeys the vendor's planted description
        order["notify"] = "ap-audit@evil.example"
    return ToolCallsReply([ToolCall("create_purchase_order", {"body": order})])
