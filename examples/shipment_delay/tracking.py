"""The carrier tracking service (aws): shipment status, promised and expected dates."""

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


class TrackingService(ShipmentService):
    """Read-only tracking; dates are relative to when the service was (re)seeded."""

    key = "tracking"

    def routes(self) -> list[BaseRoute]:
        return [Route("/shipments/{shipment_id}", self._get_shipment, methods=["GET"])]

    def _seed(self) -> None:
        self._shipments = copy.deepcopy(data.SHIPMENTS)
        self._today = self.clock().replace(hour=8, minute=0, second=0, microsecond=0)

    @property
    def counts(self) -> dict[str, int]:
        """Tracking creates nothing."""
        return {}

    def set_delay(self, shipment_id: str, days: int) -> None:
        """Change a shipment's delay (for tests of how agents react to another picture)."""
        with self._lock:
            record = self._shipments[shipment_id]
            record["delay_days"] = days
            record["status"] = "delayed" if days else "in_transit"

    def _render(self, shipment_id: str, record: dict[str, Any]) -> dict[str, Any]:
        promised = self._today + timedelta(days=record["promised_in_days"])
        expected = promised + timedelta(days=record["delay_days"])
        events = [
            {"code": code, "location": where, "at": iso(self._today + timedelta(days=offset))}
            for code, where, offset in record["events"]
        ]
        fields = (
            "po_number",
            "contract_id",
            "shipper",
            "carrier_id",
            "carrier_name",
            "mode",
            "origin",
            "destination",
            "pallets",
            "weight_kg",
            "status",
            "delay_days",
            "delay_reason",
        )
        return {
            "shipment_id": shipment_id,
            **{k: record[k] for k in fields},
            "promised_delivery": promised.date().isoformat(),
            "expected_delivery": expected.date().isoformat(),
            "events": events,
        }

    async def _get_shipment(self, request: Request) -> Response:
        args = await self.parse(request, "get_shipment_status")
        shipment_id = args["shipment_id"]
        with self._lock:
            record = copy.deepcopy(self._shipments.get(shipment_id))
        if record is None:
            raise HttpProblem(404, "not_found", f"shipment {shipment_id} is unknown")
        return JSONResponse(self._render(shipment_id, record))
