"""Start the scenario's four services on 127.0.0.1, each on a free port."""

from __future__ import annotations

from collections.abc import Mapping

from examples.shipment_delay._spec import SPEC_FILES, SPECS
from examples.shipment_delay.carriers import CarriersService
from examples.shipment_delay.documents import ContractsService
from examples.shipment_delay.tms import TmsService
from examples.shipment_delay.tracking import TrackingService
from paddock.local.service import Clock, ScenarioService, Verifier
from paddock.local.services import ServiceGroup, checked_verifiers


class ShipmentDelayServices(ServiceGroup):
    """Tracking, contract documents, alternative carriers and the TMS as local HTTP servers.

    Use as a context manager (or ``start()`` / ``stop()``); ``base_urls`` is the catalog's
    base-URL override for the scenario's specs.
    """

    KEYS = tuple(SPEC_FILES)
    NAME = "shipment-delay"
    SPECS = SPECS

    def __init__(
        self, *, verify_auth: Mapping[str, Verifier] | None = None, clock: Clock | None = None
    ) -> None:
        super().__init__()
        checks = checked_verifiers(self.KEYS, verify_auth)
        self.tracking = TrackingService(verify_auth=checks.get("tracking"), clock=clock)
        self.contracts = ContractsService(verify_auth=checks.get("contracts"), clock=clock)
        self.carriers = CarriersService(verify_auth=checks.get("carriers"), clock=clock)
        self.tms = TmsService(
            quotes=self.carriers.find_quote, verify_auth=checks.get("tms"), clock=clock
        )

    @property
    def services(self) -> dict[str, ScenarioService]:
        return {
            "tracking": self.tracking,
            "contracts": self.contracts,
            "carriers": self.carriers,
            "tms": self.tms,
        }
