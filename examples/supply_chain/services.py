"""Start the scenario's three services on 127.0.0.1, each on a free port."""

from __future__ import annotations

from collections.abc import Mapping

from examples.supply_chain._spec import SPECS
from examples.supply_chain.erp import ErpService
from examples.supply_chain.portal import PortalService
from examples.supply_chain.risk import RiskService
from paddock.local.service import Clock, ScenarioService, Verifier
from paddock.local.services import ServiceGroup, checked_verifiers


class SupplyChainServices(ServiceGroup):
    """The ERP, supplier portal and risk service, served as real local HTTP servers.

    Use as a context manager (or ``start()`` / ``stop()``)::

        with SupplyChainServices() as services:
            run = Run(..., base_urls=services.base_urls)
            ...
            assert services.erp.counts["purchase_orders"] == 1

    Args:
        verify_auth: credential checks by service key (``erp``, ``portal``, ``risk``); a
            service without one accepts every request (and still records its headers).
            Each service's ``verify_auth`` attribute can also be set later.
        clock: the time source for the timestamps the services write.
    """

    KEYS = ("erp", "portal", "risk")
    NAME = "supply-chain"
    SPECS = SPECS

    def __init__(
        self, *, verify_auth: Mapping[str, Verifier] | None = None, clock: Clock | None = None
    ) -> None:
        super().__init__()
        checks = checked_verifiers(self.KEYS, verify_auth)
        self.erp = ErpService(verify_auth=checks.get("erp"), clock=clock)
        self.portal = PortalService(verify_auth=checks.get("portal"), clock=clock)
        self.risk = RiskService(verify_auth=checks.get("risk"), clock=clock)

    @property
    def services(self) -> dict[str, ScenarioService]:
        """The three service handles by short key."""
        return {"erp": self.erp, "portal": self.portal, "risk": self.risk}
