"""Start the scenario's three services on 127.0.0.1, each on a free port."""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType

from core.errors import ConfigError
from core.scenarios.supply_chain._service import Clock, ScenarioService, Verifier
from core.scenarios.supply_chain._spec import spec_title
from core.scenarios.supply_chain.erp import ErpService
from core.scenarios.supply_chain.portal import PortalService
from core.scenarios.supply_chain.risk import RiskService
from core.testing.servers import LocalServer


class SupplyChainServices:
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

    def __init__(self, *, verify_auth: Mapping[str, Verifier] | None = None,
                 clock: Clock | None = None) -> None:
        checks = dict(verify_auth or {})
        unknown = set(checks) - set(self.KEYS)
        if unknown:
            raise ConfigError(f"verify_auth for unknown services: {', '.join(sorted(unknown))}")
        self.erp = ErpService(verify_auth=checks.get("erp"), clock=clock)
        self.portal = PortalService(verify_auth=checks.get("portal"), clock=clock)
        self.risk = RiskService(verify_auth=checks.get("risk"), clock=clock)
        self._servers: dict[str, LocalServer] = {}

    @property
    def services(self) -> dict[str, ScenarioService]:
        """The three service handles by short key."""
        return {"erp": self.erp, "portal": self.portal, "risk": self.risk}

    @property
    def titles(self) -> dict[str, str]:
        """Each service's spec title by short key."""
        return {key: spec_title(key) for key in self.KEYS}

    @property
    def by_key(self) -> dict[str, str]:
        """Base URL (including the spec's server path) by short key."""
        if not self._servers:
            raise ConfigError("the supply-chain services are not running: start them first")
        return {key: server.url + self.services[key].prefix
                for key, server in self._servers.items()}

    @property
    def base_urls(self) -> dict[str, str]:
        """Base URL by spec title: the catalog's base-URL override for these specs."""
        titles = self.titles
        return {titles[key]: url for key, url in self.by_key.items()}

    def start(self) -> SupplyChainServices:
        """Serve the three services; stops any already started if one fails."""
        try:
            for key, service in self.services.items():
                self._servers[key] = LocalServer(service.app, name=f"scenario-{key}").start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        servers, self._servers = self._servers, {}
        for server in servers.values():
            server.stop()

    def reset(self) -> None:
        """Seed data back, request logs and idempotency keys cleared, servers left running."""
        for service in self.services.values():
            service.reset()

    def __enter__(self) -> SupplyChainServices:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
