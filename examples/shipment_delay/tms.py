"""The transport management system (aws): re-routing requests, checked against quotes."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from examples.shipment_delay import data
from examples.shipment_delay._spec import ShipmentService
from paddock.local.service import Clock, HttpProblem, Verifier

QuoteLookup = Callable[[str], "dict[str, Any] | None"]


class TmsService(ShipmentService):
    """Records re-routing requests. A request must cite a quote the carrier service issued,
    for the same carrier and a load at least as large as the shipment, still valid."""

    key = "tms"

    def __init__(
        self,
        *,
        quotes: QuoteLookup,
        verify_auth: Verifier | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._lookup = quotes
        super().__init__(verify_auth=verify_auth, clock=clock)

    def routes(self) -> list[BaseRoute]:
        return [Route("/reroute-requests", self._create, methods=["POST"])]

    def _seed(self) -> None:
        self._requests: list[dict[str, Any]] = []
        self._next = 1

    @property
    def counts(self) -> dict[str, int]:
        with self._lock:
            return {"reroute_requests": len(self._requests)}

    @property
    def reroute_requests(self) -> list[dict[str, Any]]:
        """Requests recorded since the last reset, oldest first."""
        with self._lock:
            return copy.deepcopy(self._requests)

    def _check_quote(self, body: dict[str, Any]) -> None:
        shipment = data.SHIPMENTS.get(body["shipment_id"])
        if shipment is None:
            raise HttpProblem(404, "not_found", f"shipment {body['shipment_id']} is unknown")
        quote = self._lookup(body["quote_id"])
        if quote is None:
            raise HttpProblem(409, "quote_unknown", f"quote {body['quote_id']} is unknown")
        if quote["carrier_id"] != body["carrier_id"]:
            raise HttpProblem(
                409,
                "quote_mismatch",
                f"quote {body['quote_id']} is for {quote['carrier_id']}, not {body['carrier_id']}",
            )
        if quote["pallets"] < shipment["pallets"]:
            raise HttpProblem(
                409,
                "quote_mismatch",
                f"quote {body['quote_id']} covers "
                f"{quote['pallets']} pallets; the shipment has "
                f"{shipment['pallets']}",
            )
        valid_until = datetime.fromisoformat(quote["valid_until"].replace("Z", "+00:00"))
        if valid_until < self.clock():
            raise HttpProblem(409, "quote_expired", f"quote {body['quote_id']} has expired")

    async def _create(self, request: Request) -> Response:
        args = await self.parse(request, "create_reroute_request")
        body = args["body"]

        def write() -> tuple[int, dict[str, Any]]:
            self._check_quote(body)
            record = {
                "request_id": f"RR-{self._next:05d}",
                "status": "submitted",
                **body,
                "created_at": self.now(),
            }
            self._next += 1
            self._requests.append(record)
            return 201, copy.deepcopy(record)

        return self.idempotent(request, args, write)
