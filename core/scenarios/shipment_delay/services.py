"""Start the scenario's four services on 127.0.0.1, each on a free port."""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType

from core.errors import ConfigError
from core.scenarios.shipment_delay._spec import SPEC_FILES, spec_title
from core.scenarios.shipment_delay.carriers import CarriersService
from core.scenarios.shipment_delay.documents import ContractsService
from core.scenarios.shipment_delay.tms import TmsService
from core.scenarios.shipment_delay.tracking import TrackingService
from core.scenarios.supply_chain._service import Clock, ScenarioService, Verifier
from core.testing.servers import LocalServer


class ShipmentDelayServices:
    """Tracking, contract documents, alternative carriers and the TMS as local HTTP servers.

    Use as a context manager (or ``start()`` / ``stop()``); ``base_urls`` is the catalog's
    base-URL override for the scenario's specs.
    """

    KEYS = tuple(SPEC_FILES)

    def __init__(self, *, verify_auth: Mapping[str, Verifier] | None = None,
                 clock: Clock | None = None) -> None:
        checks = dict(verify_auth or {})
        unknown = set(checks) - set(self.KEYS)
        if unknown:
            raise ConfigError(f"verify_auth for unknown services: {', '.join(sorted(unknown))}")
        self.tracking = TrackingService(verify_auth=checks.get("tracking"), clock=clock)
        self.contracts = ContractsService(verify_auth=checks.get("contracts"), clock=clock)
        self.carriers = CarriersService(verify_auth=checks.get("carriers"), clock=clock)
        self.tms = TmsService(quotes=self.carriers.find_quote, verify_auth=checks.get("tms"),
                              clock=clock)
        self._servers: dict[str, LocalServer] = {}

    @property
    def services(self) -> dict[str, ScenarioService]:
        return {"tracking": self.tracking, "contracts": self.contracts,
                "carriers": self.carriers, "tms": self.tms}

    @property
    def by_key(self) -> dict[str, str]:
        """Base URL (including the spec's server path) by short key."""
        if not self._servers:
            raise ConfigError("the shipment-delay services are not running: start them first")
        return {key: server.url + self.services[key].prefix
                for key, server in self._servers.items()}

    @property
    def base_urls(self) -> dict[str, str]:
        """Base URL by spec title."""
        return {spec_title(key): url for key, url in self.by_key.items()}

    def start(self) -> ShipmentDelayServices:
        try:
            for key, service in self.services.items():
                self._servers[key] = LocalServer(service.app, name=f"shipment-{key}").start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        servers, self._servers = self._servers, {}
        for server in servers.values():
            server.stop()

    def reset(self) -> None:
        for service in self.services.values():
            service.reset()

    def __enter__(self) -> ShipmentDelayServices:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
