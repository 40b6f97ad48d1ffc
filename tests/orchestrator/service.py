"""A small real HTTP service for loop tests: reads, idempotent writes, a destructive call."""

from __future__ import annotations

import itertools
import threading
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from core.domain import Location, Param, ParamLocation, SideEffect, Tool, Trust
from tests.tools import http_tool


class OrdersService:
    """Records every request it receives, in order, and dedups writes by Idempotency-Key."""

    def __init__(self, events: list[tuple[str, Any]] | None = None) -> None:
        self.events = events if events is not None else []
        self.orders: dict[str, dict[str, Any]] = {}
        self.by_key: dict[str, dict[str, Any]] = {}
        self.deleted: list[str] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.app = Starlette(
            routes=[
                Route("/items/{item}", self.get_item, methods=["GET"]),
                Route("/orders", self.create_order, methods=["POST"]),
                Route("/items/{item}", self.delete_item, methods=["DELETE"]),
            ]
        )

    @property
    def requests(self) -> list[Any]:
        return [e[1] for e in self.events if e[0] == "request"]

    async def get_item(self, request: Request) -> JSONResponse:
        item = request.path_params["item"]
        self.events.append(("request", ("GET", item)))
        return JSONResponse({"item": item, "stock": 0})

    async def create_order(self, request: Request) -> JSONResponse:
        body = await request.json()
        key = request.headers.get("idempotency-key", "")
        self.events.append(("request", ("POST", body, key)))
        with self._lock:
            if key and key in self.by_key:
                return JSONResponse(self.by_key[key], status_code=201)
            order = {"order_id": f"O-{next(self._ids)}", **body}
            self.orders[order["order_id"]] = order
            if key:
                self.by_key[key] = order
        return JSONResponse(order, status_code=201)

    async def delete_item(self, request: Request) -> JSONResponse:
        item = request.path_params["item"]
        self.events.append(("request", ("DELETE", item)))
        self.deleted.append(item)
        return JSONResponse({"deleted": item})


def tools(base_url: str, *, order_cloud: Location = Location.EXTERNAL) -> list[Tool]:
    item_param = Param(arg="item", name="item", location=ParamLocation.PATH, required=True)
    return [
        http_tool(
            name="get_item",
            operation_id="get_item",
            description="Read an item.",
            args_schema={
                "type": "object",
                "additionalProperties": False,
                "required": ["item"],
                "properties": {"item": {"type": "string", "maxLength": 20}},
            },
            params=(item_param,),
            method="GET",
            path="/items/{item}",
            base_url=base_url,
            responses={"200": {"type": "object", "required": ["item", "stock"]}},
        ),
        http_tool(
            name="create_order",
            operation_id="create_order",
            description="Order an item.",
            args_schema={
                "type": "object",
                "additionalProperties": False,
                "required": ["body"],
                "properties": {
                    "body": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["item", "quantity"],
                        "properties": {
                            "item": {"type": "string"},
                            "quantity": {"type": "integer", "minimum": 1},
                        },
                    }
                },
            },
            params=(Param(arg="body", name="body", location=ParamLocation.BODY, required=True),),
            method="POST",
            path="/orders",
            base_url=base_url,
            side_effect=SideEffect.WRITE,
            location=order_cloud,
        ),
        http_tool(
            name="delete_item",
            operation_id="delete_item",
            description="Delete an item.",
            args_schema={
                "type": "object",
                "additionalProperties": False,
                "required": ["item"],
                "properties": {"item": {"type": "string"}},
            },
            params=(item_param,),
            method="DELETE",
            path="/items/{item}",
            base_url=base_url,
            side_effect=SideEffect.DESTRUCTIVE,
            trust=Trust.TRUSTED,
        ),
    ]


class ToolList:
    """The smallest ToolSource: a fixed list of tools."""

    def __init__(self, items: list[Tool]) -> None:
        self._tools = items

    @property
    def tools(self) -> list[Tool]:
        return list(self._tools)

    def find(self, name: str) -> Tool | None:
        return next((t for t in self._tools if t.name == name), None)
