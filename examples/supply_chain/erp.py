"""The ERP (SAP-like materials management): stock, vendor master, purchase orders."""

from __future__ import annotations

import copy
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from examples.supply_chain import data
from examples.supply_chain._spec import SupplyChainService
from paddock.local.service import HttpProblem, iso


def iban_valid(iban: str) -> bool:
    """The ISO 13616 mod-97 check of an IBAN in electronic format."""
    if len(iban) < 15 or not iban.isalnum():
        return False
    moved = iban[4:] + iban[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


def money(value: Decimal) -> float:
    return float(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _two_decimals(value: float) -> bool:
    return Decimal(str(value)) == Decimal(str(value)).quantize(Decimal("0.01"))


class ErpService(SupplyChainService):
    """The ERP service and its state: purchase orders, deleted vendors, bank changes."""

    key = "erp"

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/plants/{plant}/parts/{part}/stock", self._get_stock, methods=["GET"]),
            Route("/vendors", self._list_vendors, methods=["GET"]),
            Route("/vendors/{vendor_id}", self._delete_vendor, methods=["DELETE"]),
            Route("/vendors/{vendor_id}/bank-account", self._update_vendor_bank, methods=["PUT"]),
            Route("/purchase-orders", self._list_purchase_orders, methods=["GET"]),
            Route("/purchase-orders", self._create_purchase_order, methods=["POST"]),
        ]

    def _seed(self) -> None:
        posted = self.clock().replace(minute=0, second=0, microsecond=0)
        self._stock_updated_at = iso(posted - timedelta(hours=data.STOCK_AGE_HOURS))
        self._stock = copy.deepcopy(data.STOCK)
        self._vendors = {
            vid: {"vendor_id": vid, **fields, **data.VENDOR_DEFAULTS}
            for vid, fields in data.VENDORS.items()
        }
        self._deleted: dict[str, str] = {}
        self._orders: list[dict[str, Any]] = []
        self._bank_changes: list[dict[str, Any]] = []
        self._next_po = 4500000001

    # -- inspection -------------------------------------------------------------------------

    @property
    def purchase_orders(self) -> list[dict[str, Any]]:
        """Purchase orders created since the last reset, oldest first."""
        with self._lock:
            return copy.deepcopy(self._orders)

    @property
    def deleted_vendors(self) -> list[str]:
        """Vendor numbers deleted since the last reset, in order."""
        with self._lock:
            return list(self._deleted)

    @property
    def bank_changes(self) -> list[dict[str, Any]]:
        """Bank account changes since the last reset: vendor, old and new IBAN and BIC."""
        with self._lock:
            return copy.deepcopy(self._bank_changes)

    @property
    def vendors(self) -> dict[str, dict[str, Any]]:
        """The vendor master as it is now (deleted vendors excluded)."""
        with self._lock:
            return {vid: dict(v) for vid, v in self._vendors.items() if vid not in self._deleted}

    @property
    def counts(self) -> dict[str, int]:
        """How many records each write created since the last reset."""
        with self._lock:
            return {
                "purchase_orders": len(self._orders),
                "vendor_deletions": len(self._deleted),
                "bank_changes": len(self._bank_changes),
            }

    # -- reads -------------------------------------------------------------------------------

    async def _get_stock(self, request: Request) -> Response:
        args = await self.parse(request, "get_stock")
        part, plant = args["part"], args["plant"]
        with self._lock:
            record = self._stock.get((part, plant))
            if record is None:
                raise HttpProblem(404, "not_found", f"part {part} is not kept at plant {plant}")
            available = max(record["unrestricted"] - record["reserved"], 0)
            payload = {
                "part": part,
                "plant": plant,
                "description": record["description"],
                "unit": "PC",
                "unrestricted": record["unrestricted"],
                "reserved": record["reserved"],
                "available": available,
                "on_order": record["on_order"],
                "reorder_point": record["reorder_point"],
                "updated_at": self._stock_updated_at,
            }
        return JSONResponse(payload)

    async def _list_vendors(self, request: Request) -> Response:
        args = await self.parse(request, "list_vendors")
        country = args.get("country")
        vendors = [v for v in self.vendors.values() if country in (None, v["country"])]
        return JSONResponse({"vendors": vendors})

    async def _list_purchase_orders(self, request: Request) -> Response:
        args = await self.parse(request, "list_purchase_orders")
        wanted = {k: args[k] for k in ("part", "plant", "vendor_id") if k in args}
        orders = [po for po in self.purchase_orders if all(po[k] == v for k, v in wanted.items())]
        return JSONResponse({"purchase_orders": orders})

    # -- writes ------------------------------------------------------------------------------

    def _active_vendor(self, vendor_id: str, *, missing: int = 404) -> dict[str, Any]:
        vendor = self._vendors.get(vendor_id)
        if vendor is None:
            raise HttpProblem(
                missing,
                "unknown_vendor" if missing == 422 else "not_found",
                f"vendor {vendor_id} is not in the vendor master",
                [{"location": "body.vendor_id", "message": "unknown vendor"}]
                if missing == 422
                else None,
            )
        if vendor_id in self._deleted:
            raise HttpProblem(409, "vendor_deleted", f"vendor {vendor_id} has been deleted")
        return vendor

    async def _create_purchase_order(self, request: Request) -> Response:
        args = await self.parse(request, "create_purchase_order")
        body: dict[str, Any] = args["body"]
        problems = []
        if body["part"] not in data.PARTS:
            problems.append({"location": "body.part", "message": "not in the material master"})
        if body["plant"] not in data.PLANTS:
            problems.append({"location": "body.plant", "message": "unknown plant"})
        if not _two_decimals(body["unit_price"]):
            problems.append({"location": "body.unit_price", "message": "more than 2 decimals"})
        if problems:
            raise HttpProblem(422, "validation_failed", "purchase order rejected", problems)

        def write() -> tuple[int, dict[str, Any]]:
            vendor = self._active_vendor(body["vendor_id"], missing=422)
            total = Decimal(body["quantity"]) * Decimal(str(body["unit_price"]))
            order = {
                "po_number": str(self._next_po),
                "status": "created",
                "part": body["part"],
                "plant": body["plant"],
                "quantity": body["quantity"],
                "vendor_id": body["vendor_id"],
                "vendor_name": vendor["name"],
                "unit_price": body["unit_price"],
                "currency": body["currency"],
                "total": money(total),
                "quote_id": body.get("quote_id"),
                "created_at": self.now(),
            }
            self._next_po += 1
            self._orders.append(order)
            stock = self._stock.get((body["part"], body["plant"]))
            if stock is not None:
                stock["on_order"] += body["quantity"]
            return 201, copy.deepcopy(order)

        return self.idempotent(request, args, write)

    async def _delete_vendor(self, request: Request) -> Response:
        args = await self.parse(request, "delete_vendor")
        vendor_id = args["vendor_id"]

        def write() -> tuple[int, dict[str, Any]]:
            if vendor_id not in self._vendors:
                raise HttpProblem(404, "not_found", f"vendor {vendor_id} is not in the master")
            deleted_at = self._deleted.setdefault(vendor_id, self.now())
            return 200, {"vendor_id": vendor_id, "status": "deleted", "deleted_at": deleted_at}

        return self.idempotent(request, args, write)

    async def _update_vendor_bank(self, request: Request) -> Response:
        args = await self.parse(request, "update_vendor_bank")
        vendor_id, body = args["vendor_id"], args["body"]
        if not iban_valid(body["iban"]):
            raise HttpProblem(
                422,
                "validation_failed",
                "the IBAN checksum is wrong",
                [{"location": "body.iban", "message": "fails the mod-97 check"}],
            )

        def write() -> tuple[int, dict[str, Any]]:
            vendor = self._active_vendor(vendor_id)
            self._bank_changes.append(
                {
                    "vendor_id": vendor_id,
                    "old_iban": vendor["iban"],
                    "old_bic": vendor["bic"],
                    "iban": body["iban"],
                    "bic": body["bic"],
                    "account_holder": body.get("account_holder"),
                    "reason": body.get("reason"),
                    "changed_at": self.now(),
                }
            )
            vendor.update(iban=body["iban"], bic=body["bic"])
            return 200, dict(vendor)

        return self.idempotent(request, args, write)
