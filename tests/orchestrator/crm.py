"""A small real CRM for outcome tests: a read that can break, an order write that can be
down for a while, a customer write that refuses every caller (an auth error)."""

from __future__ import annotations

import threading
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from core.domain import Param, ParamLocation, SideEffect, Tool
from tests.tools import http_tool


class CrmService:
    """``down_for``: how many order requests answer 503 before the service recovers."""

    def __init__(self, *, down_for: int = 0) -> None:
        self.down_for = down_for
        self.orders: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self.app = Starlette(
            routes=[
                Route("/customers/{customer}", self.get_customer, methods=["GET"]),
                Route("/customers", self.create_customer, methods=["POST"]),
                Route("/orders", self.create_order, methods=["POST"]),
            ]
        )

    async def get_customer(self, request: Request) -> JSONResponse:
        customer = request.path_params["customer"]
        self.requests.append(("GET", customer))
        if customer == "BROKEN":
            return JSONResponse({"error": "lookup failed"}, status_code=500)
        return JSONResponse({"customer": customer, "name": "Acme"})

    async def create_customer(self, request: Request) -> JSONResponse:
        self.requests.append(("POST", "/customers"))
        return JSONResponse({"error": "invalid_token"}, status_code=401)

    async def create_order(self, request: Request) -> JSONResponse:
        body = await request.json()
        self.requests.append(("POST", "/orders"))
        with self._lock:
            if self.down_for > 0:
                self.down_for -= 1
                return JSONResponse({"error": "maintenance"}, status_code=503)
            order = {"order_id": f"O-{len(self.orders) + 1}", **body}
            self.orders.append(order)
        return JSONResponse(order, status_code=201)


def crm_tools(base_url: str, *, orders_url: str | None = None) -> list[Tool]:
    """The CRM's tools; ``orders_url`` points the order write elsewhere (a closed port)."""
    body = Param(arg="body", name="body", location=ParamLocation.BODY, required=True)
    customer = Param(arg="customer", name="customer", location=ParamLocation.PATH, required=True)
    return [
        http_tool(
            name="get_customer",
            description="Read a customer.",
            args_schema={
                "type": "object",
                "required": ["customer"],
                "properties": {"customer": {"type": "string"}},
            },
            params=(customer,),
            method="GET",
            path="/customers/{customer}",
            base_url=base_url,
        ),
        http_tool(
            name="create_customer",
            description="Create a customer.",
            args_schema={
                "type": "object",
                "required": ["body"],
                "properties": {"body": {"type": "object"}},
            },
            params=(body,),
            method="POST",
            path="/customers",
            base_url=base_url,
            side_effect=SideEffect.WRITE,
        ),
        http_tool(
            name="create_order",
            description="Order an item.",
            args_schema={
                "type": "object",
                "required": ["body"],
                "properties": {"body": {"type": "object"}},
            },
            params=(body,),
            method="POST",
            path="/orders",
            base_url=orders_url or base_url,
            side_effect=SideEffect.WRITE,
        ),
    ]
