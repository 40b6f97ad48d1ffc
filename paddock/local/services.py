"""What every bundled scenario needs: its shipped specs, its services as one group, and the
credential checks its services apply. Scenarios differ only in their data and services."""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import yaml

from core.errors import ConfigError, SpecError
from paddock.local.servers import LocalServer

if TYPE_CHECKING:
    from paddock.local.identity import LocalIdentity
    from paddock.local.service import ScenarioService, Verifier


@functools.cache
def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


@dataclass(frozen=True)
class SpecFiles:
    """A scenario's OpenAPI specs: short key -> file name in ``directory``."""

    directory: Path
    files: Mapping[str, str]

    def paths(self) -> list[Path]:
        return [self.directory / name for name in self.files.values()]

    def load(self, key: str) -> dict[str, Any]:
        """A fresh parsed copy of one spec, by short key."""
        if key not in self.files:
            raise SpecError(f"no scenario spec {key!r} (known: {', '.join(self.files)})")
        loaded = yaml.safe_load(_read(self.directory / self.files[key]))
        if not isinstance(loaded, dict):
            raise SpecError(f"scenario spec {key!r} is not a mapping")
        return loaded

    def title(self, key: str) -> str:
        return str(self.load(key)["info"]["title"])

    def verifiers(self, local: LocalIdentity) -> dict[str, Verifier]:
        """Per service key, the check of ``local``'s credentials its spec's auth asks for."""
        from core.catalog import Catalog

        catalog = Catalog.from_sources([str(p) for p in self.paths()])
        checks: dict[str, Verifier] = {}
        for key in self.files:
            title = self.title(key)
            tool = next(t for t in catalog.tools if t.spec is not None and t.spec.title == title)
            check = local.verifier_for(tool)
            if check is not None:
                checks[key] = check
        return checks


def checked_verifiers(
    keys: tuple[str, ...], verify_auth: Mapping[str, Verifier] | None
) -> dict[str, Verifier]:
    """``verify_auth`` as a dict, refusing keys that name no service."""
    checks = dict(verify_auth or {})
    unknown = set(checks) - set(keys)
    if unknown:
        raise ConfigError(f"verify_auth for unknown services: {', '.join(sorted(unknown))}")
    return checks


class ServiceGroup(ABC):
    """A scenario's services served together as real local HTTP servers on 127.0.0.1.

    Subclasses build their services in ``__init__`` and name them in ``services``. Use as a
    context manager (or ``start()`` / ``stop()``); ``base_urls`` is the catalog's base-URL
    override for the scenario's specs.
    """

    NAME = "scenario"
    SPECS: SpecFiles

    def __init__(self) -> None:
        self._servers: dict[str, LocalServer] = {}

    @property
    @abstractmethod
    def services(self) -> dict[str, ScenarioService]:
        """The service handles by short key."""

    @property
    def titles(self) -> dict[str, str]:
        """Each service's spec title by short key."""
        return {key: self.SPECS.title(key) for key in self.services}

    @property
    def by_key(self) -> dict[str, str]:
        """Base URL (including the spec's server path) by short key."""
        if not self._servers:
            raise ConfigError(f"the {self.NAME} services are not running: start them first")
        return {
            key: server.url + self.services[key].prefix for key, server in self._servers.items()
        }

    @property
    def base_urls(self) -> dict[str, str]:
        """Base URL by spec title: the catalog's base-URL override for these specs."""
        titles = self.titles
        return {titles[key]: url for key, url in self.by_key.items()}

    def start(self) -> Self:
        """Serve every service; stops any already started if one fails."""
        try:
            for key, service in self.services.items():
                self._servers[key] = LocalServer(service.app, name=f"{self.NAME}-{key}").start()
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

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
