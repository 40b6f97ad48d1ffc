"""The supplier portal: supplier search, binding quotes, and the supplier inbox."""

from __future__ import annotations

import copy
from datetime import timedelta
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from examples.supply_chain import data
from examples.supply_chain._spec import SupplyChainService
from examples.supply_chain.erp import money
from paddock.local.service import HttpProblem, iso


def unit_price(offer: dict[str, Any], quantity: int) -> float:
    """The tier price of an offer for a quantity (the last tier the quantity reaches)."""
    price = offer["tiers"][0][1]
    for minimum, tier_price in offer["tiers"]:
        if quantity >= minimum:
            price = tier_price
    return float(price)


class PortalService(SupplyChainService):
    """The supplier portal and its state: quotes issued and messages sent."""

    key = "portal"

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/suppliers", self._search_suppliers, methods=["GET"]),
            Route("/quotes", self._request_quote, methods=["POST"]),
            Route("/messages", self._list_messages, methods=["GET"]),
            Route("/messages", self._send_message, methods=["POST"]),
        ]

    def _seed(self) -> None:
        self._offers = copy.deepcopy(data.OFFERS)
        seeded = self.clock().replace(second=0, microsecond=0)
        self._inbox = [
            {
                **{k: v for k, v in m.items() if k != "hours_ago"},
                "received_at": iso(seeded - timedelta(hours=m["hours_ago"])),
            }
            for m in data.MESSAGES
        ]
        self._quotes: list[dict[str, Any]] = []
        self._sent: list[dict[str, Any]] = []
        self._next_quote = 100001
        self._next_out = 1

    @property
    def quotes(self) -> list[dict[str, Any]]:
        """Quotes issued since the last reset, oldest first."""
        with self._lock:
            return copy.deepcopy(self._quotes)

    @property
    def sent_messages(self) -> list[dict[str, Any]]:
        """Messages sent to suppliers since the last reset, with their full body."""
        with self._lock:
            return copy.deepcopy(self._sent)

    @property
    def inbox(self) -> list[dict[str, Any]]:
        """The messages suppliers sent (two of them carry prompt injections)."""
        with self._lock:
            return copy.deepcopy(self._inbox)

    @property
    def counts(self) -> dict[str, int]:
        """How many records each write created since the last reset."""
        with self._lock:
            return {"quotes": len(self._quotes), "sent_messages": len(self._sent)}

    def _supplier(self, supplier_id: str) -> dict[str, Any]:
        vendor = data.VENDORS.get(supplier_id)
        if vendor is None:
            raise HttpProblem(404, "not_found", f"no supplier {supplier_id} on the portal")
        return vendor

    async def _search_suppliers(self, request: Request) -> Response:
        args = await self.parse(request, "search_suppliers")
        part, quantity = args["part"], args["quantity"]
        found = []
        with self._lock:
            for supplier_id in sorted(self._offers):
                offer = self._offers[supplier_id].get(part)
                if offer is None:
                    continue
                vendor = data.VENDORS[supplier_id]
                found.append(
                    {
                        "supplier_id": supplier_id,
                        "name": vendor["name"],
                        "country": vendor["country"],
                        "available_quantity": offer["available"],
                        "can_deliver": offer["available"] >= quantity,
                        "lead_time_days": offer["lead_time_days"],
                        "indicative_unit_price": unit_price(offer, quantity),
                        "currency": "EUR",
                    }
                )
        return JSONResponse({"part": part, "quantity": quantity, "suppliers": found})

    async def _request_quote(self, request: Request) -> Response:
        args = await self.parse(request, "request_quote")
        body: dict[str, Any] = args["body"]

        def write() -> tuple[int, dict[str, Any]]:
            supplier_id, part, quantity = body["supplier_id"], body["part"], body["quantity"]
            vendor = self._supplier(supplier_id)
            offer = self._offers.get(supplier_id, {}).get(part)
            if offer is None:
                raise HttpProblem(409, "not_offered", f"{vendor['name']} does not supply {part}")
            if quantity > offer["available"]:
                raise HttpProblem(
                    409,
                    "insufficient_capacity",
                    f"{vendor['name']} can deliver at most {offer['available']} pieces of {part}",
                )
            price = unit_price(offer, quantity)
            created = self.clock()
            quote = {
                "quote_id": f"Q-{self._next_quote}",
                "supplier_id": supplier_id,
                "supplier_name": vendor["name"],
                "part": part,
                "quantity": quantity,
                "plant": body.get("plant"),
                "unit_price": price,
                "currency": "EUR",
                "total": money(Decimal(quantity) * Decimal(str(price))),
                "lead_time_days": offer["lead_time_days"],
                "valid_until": iso(created + timedelta(days=data.QUOTE_VALID_DAYS)),
                "created_at": iso(created),
            }
            self._next_quote += 1
            self._quotes.append(quote)
            return 201, copy.deepcopy(quote)

        return self.idempotent(request, args, write)

    async def _list_messages(self, request: Request) -> Response:
        args = await self.parse(request, "list_supplier_messages")
        supplier_id = args.get("supplier_id")
        messages = [m for m in self.inbox if supplier_id in (None, m["supplier_id"])]
        return JSONResponse({"messages": messages})

    async def _send_message(self, request: Request) -> Response:
        args = await self.parse(request, "send_supplier_message")
        body: dict[str, Any] = args["body"]

        def write() -> tuple[int, dict[str, Any]]:
            vendor = self._supplier(body["supplier_id"])
            sent = {
                "message_id": f"OUT-{self._next_out:04d}",
                "supplier_id": body["supplier_id"],
                "recipients": [vendor["email"], *body.get("cc", [])],
                "subject": body["subject"],
                "status": "sent",
                "sent_at": self.now(),
            }
            self._next_out += 1
            self._sent.append({**sent, "body": body["body"]})
            return 201, sent

        return self.idempotent(request, args, write)
