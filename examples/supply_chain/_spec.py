"""The scenario's own specs: where they are, and request checks derived from them.

The services validate what they receive against the same spec the catalog imports, so the
spec is the single source of truth for the wire contract.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from paddock.local.service import ScenarioService
from paddock.local.services import SpecFiles
from paddock.local.spec_rules import OperationRules, spec_operation_rules, spec_server_path

SPEC_DIR = Path(__file__).parent / "specs"
SPEC_FILES: dict[str, str] = {"erp": "erp.yaml", "portal": "portal.yaml", "risk": "risk.yaml"}


SPECS = SpecFiles(SPEC_DIR, SPEC_FILES)


def spec_paths() -> list[Path]:
    """The three scenario specs (ERP, supplier portal, risk service), as shipped files."""
    return SPECS.paths()


def load_spec(key: str) -> dict[str, Any]:
    """A fresh parsed copy of one spec, by short key (``erp``, ``portal``, ``risk``)."""
    return SPECS.load(key)


def spec_title(key: str) -> str:
    return SPECS.title(key)


def server_path(key: str) -> str:
    """The path part of the spec's first server URL ('' or e.g. '/v3')."""
    return spec_server_path(load_spec(key))


def operation_rules(key: str) -> dict[str, OperationRules]:
    """Request rules for every operation of one spec, by operationId."""
    return spec_operation_rules(load_spec(key))


class SupplyChainService(ScenarioService):
    """A service of this example: its spec comes from this example's ``specs/``."""

    def server_prefix(self) -> str:
        return server_path(self.key)

    def request_rules(self) -> dict[str, OperationRules]:
        return operation_rules(self.key)
