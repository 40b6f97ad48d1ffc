"""A real local supplier service whose contract drifts while a run is in flight.

It serves its own OpenAPI spec at ``/openapi.json`` (the contract Paddock imports) and can be
switched, mid-test, to return ``uuid`` where the spec promises ``ID``, or to demand a request
field the spec does not know.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


class SupplierService:
    def __init__(self, *, drift_mode: str | None = None) -> None:
        self.drift_mode = drift_mode
        self.renamed = False
        """Return ``uuid`` instead of the ``ID`` the spec requires."""
        self.wants_uuid_in_orders = False
        """Reject orders with a 422 naming ``supplier_uuid``, a field the spec lacks."""
        self.quantity_limit: int | None = None
        """Reject larger orders with a 422 naming ``quantity``, a field the spec knows."""
        self.sunset: str | None = None
        """Announce the lookup's withdrawal with ``Sunset`` and ``Deprecation`` headers."""
        self.requests: list[tuple[str, str]] = []
        self.orders: list[dict[str, Any]] = []
        self.app = Starlette(
            routes=[
                Route("/openapi.json", self.spec, methods=["GET"]),
                Route("/suppliers/{name}", self.get_supplier, methods=["GET"]),
                Route("/orders", self.create_order, methods=["POST"]),
                Route("/suppliers/{name}", self.delete_supplier, methods=["DELETE"]),
            ]
        )

    @property
    def writes(self) -> list[tuple[str, str]]:
        return [r for r in self.requests if r[0] != "GET"]

    def document(self, base_url: str) -> dict[str, Any]:
        info: dict[str, Any] = {"title": "Suppliers", "version": "1.0"}
        if self.drift_mode:
            info["x-paddock-drift"] = self.drift_mode
        supplier = {
            "type": "object",
            "required": ["ID", "name"],
            "properties": {"ID": {"type": "string"}, "name": {"type": "string"}},
        }
        order = {
            "type": "object",
            "required": ["supplier_id", "quantity"],
            "additionalProperties": False,
            "properties": {
                "supplier_id": {"type": "string"},
                "quantity": {"type": "integer", "minimum": 1},
            },
        }
        return {
            "openapi": "3.0.3",
            "info": info,
            "servers": [{"url": base_url}],
            "paths": {
                "/suppliers/{name}": {
                    "get": {
                        "operationId": "getSupplier",
                        "summary": "Look up a supplier by name",
                        "parameters": [
                            {
                                "name": "name",
                                "in": "path",
                                "required": True,
                                "schema": {"type": "string"},
                            }
                        ],
                        "responses": {
                            "200": {
                                "description": "the supplier",
                                "content": {"application/json": {"schema": supplier}},
                            }
                        },
                    },
                    "delete": {
                        "operationId": "deleteSupplier",
                        "summary": "Remove a supplier for good",
                        "parameters": [
                            {
                                "name": "name",
                                "in": "path",
                                "required": True,
                                "schema": {"type": "string"},
                            }
                        ],
                        "responses": {"204": {"description": "removed"}},
                    },
                },
                "/orders": {
                    "post": {
                        "operationId": "createOrder",
                        "summary": "Place an order with a supplier",
                        "requestBody": {
                            "required": True,
                            "content": {"application/json": {"schema": order}},
                        },
                        "responses": {
                            "201": {
                                "description": "placed",
                                "content": {"application/json": {"schema": {"type": "object"}}},
                            }
                        },
                    }
                },
            },
        }

    async def spec(self, request: Request) -> JSONResponse:
        return JSONResponse(self.document(str(request.base_url).rstrip("/")))

    async def get_supplier(self, request: Request) -> JSONResponse:
        name = request.path_params["name"]
        self.requests.append(("GET", name))
        key = "uuid" if self.renamed else "ID"
        headers = {"Sunset": self.sunset, "Deprecation": "@1767225600"} if self.sunset else {}
        return JSONResponse({key: "S-17", "name": name}, headers=headers)

    async def create_order(self, request: Request) -> JSONResponse:
        body = await request.json()
        self.requests.append(("POST", str(body)))
        if self.wants_uuid_in_orders and "supplier_uuid" not in body:
            return JSONResponse(
                {"detail": [{"loc": ["body", "supplier_uuid"], "msg": "field required"}]},
                status_code=422,
            )
        if self.quantity_limit is not None and body.get("quantity", 0) > self.quantity_limit:
            return JSONResponse(
                {"detail": [{"loc": ["body", "quantity"], "msg": "too many"}]}, status_code=422
            )
        self.orders.append(body)
        return JSONResponse({"order_id": f"O-{len(self.orders)}", **body}, status_code=201)

    async def delete_supplier(self, request: Request) -> Response:
        self.requests.append(("DELETE", request.path_params["name"]))
        return Response(status_code=204)
