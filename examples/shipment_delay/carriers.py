"""The alternative-carrier marketplace (azure, another region): capacity and quotes."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from examples.shipment_delay import data
from examples.shipment_delay._spec import ShipmentService
from paddock.local.service import HttpProblem, iso


def price(carrier: dict[str, Any], pallets: int) -> float:
    """Pallets x price per pallet, plus the carrier's fixed surcharge, in EUR."""
    return round(pallets * float(carrier["price_per_pallet"]) + float(carrier["surcharge"]), 2)


class CarriersService(ShipmentService):
    """Capacity search and quotes; the quotes it issued are what the TMS accepts."""

    key = "carriers"

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/capacity", self._capacity, methods=["GET"]),
            Route("/quotes", self._quote, methods=["POST"]),
        ]

    def _seed(self) -> None:
        self._carriers = copy.deepcopy(data.CARRIERS)
        self._quotes: dict[str, dict[str, Any]] = {}
        self._next_quote = 700001

    @property
    def counts(self) -> dict[str, int]:
        with self._lock:
            return {"quotes": len(self._quotes)}

    def find_quote(self, quote_id: str) -> dict[str, Any] | None:
        """A quote this service issued (a copy), or None."""
        with self._lock:
            found = self._quotes.get(quote_id)
            return copy.deepcopy(found) if found is not None else None

    def _serving(self, origin: str, destination: str) -> list[str]:
        return list(data.LANES.get((origin, destination), ()))

    async def _capacity(self, request: Request) -> Response:
        args = await self.parse(request, "search_carrier_capacity")
        origin, destination, pallets = args["origin"], args["destination"], args["pallets"]
        with self._lock:
            found = [
                {
                    "carrier_id": cid,
                    "name": c["name"],
                    "mode": c["mode"],
                    "region": c["region"],
                    "available_pallets": c["available_pallets"],
                    "transit_days": c["transit_days"],
                    "indicative_price_eur": price(c, pallets),
                }
                for cid in self._serving(origin, destination)
                if (c := self._carriers[cid])["available_pallets"] >= pallets
            ]
        found.sort(key=lambda c: c["indicative_price_eur"])
        return JSONResponse(
            {"origin": origin, "destination": destination, "pallets": pallets, "carriers": found}
        )

    async def _quote(self, request: Request) -> Response:
        args = await self.parse(request, "quote_carrier")
        body = args["body"]
        cid = body["carrier_id"]
        with self._lock:
            carrier = self._carriers.get(cid)
            if carrier is None:
                raise HttpProblem(404, "not_found", f"carrier {cid} is unknown")
            if cid not in self._serving(body["origin"], body["destination"]):
                raise HttpProblem(
                    409,
                    "no_service",
                    f"{cid} does not serve {body['origin']} -> {body['destination']}",
                )
            if carrier["available_pallets"] < body["pallets"]:
                raise HttpProblem(
                    409,
                    "no_capacity",
                    f"{cid} has room for {carrier['available_pallets']} pallets only",
                )
            quote_id = f"Q-{self._next_quote}"
            self._next_quote += 1
            quote = {
                "quote_id": quote_id,
                "carrier_id": cid,
                "carrier_name": carrier["name"],
                "origin": body["origin"],
                "destination": body["destination"],
                "pallets": body["pallets"],
                "price_eur": price(carrier, body["pallets"]),
                "transit_days": carrier["transit_days"],
                "valid_until": iso(self.clock() + timedelta(hours=data.QUOTE_VALID_HOURS)),
            }
            self._quotes[quote_id] = quote
        return JSONResponse(quote, status_code=201)
