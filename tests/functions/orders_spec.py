"""An OpenAPI 3.1 document for tests.orchestrator.service.OrdersService: reads run anywhere,
orders are placed by the Azure worker (``x-paddock-cloud: azure``)."""

from __future__ import annotations

from typing import Any

ORDERS_SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Orders", "version": "1.0.0"},
    "paths": {
        "/items/{item}": {
            "get": {
                "operationId": "get_item",
                "summary": "Read an item.",
                "parameters": [
                    {
                        "name": "item",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "maxLength": 20},
                    }
                ],
                "responses": {
                    "200": {
                        "description": "the item",
                        "content": {
                            "application/json": {
                                "schema": {"type": "object", "required": ["item", "stock"]}
                            }
                        },
                    }
                },
            }
        },
        "/orders": {
            "post": {
                "operationId": "create_order",
                "summary": "Order an item.",
                "x-paddock-cloud": "azure",
                "x-paddock-side-effect": "write",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "additionalProperties": False,
                                "required": ["item", "quantity"],
                                "properties": {
                                    "item": {"type": "string"},
                                    "quantity": {"type": "integer", "minimum": 1},
                                },
                            }
                        }
                    },
                },
                "responses": {"201": {"description": "the order"}},
            }
        },
    },
}
