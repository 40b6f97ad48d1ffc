"""Where the scenario's specs are, and the service base that checks requests against them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from paddock.local.service import ScenarioService
from paddock.local.services import SpecFiles
from paddock.local.spec_rules import (
    OperationRules,
    spec_operation_rules,
    spec_server_path,
)

SPEC_DIR = Path(__file__).parent / "specs"
SPEC_FILES: dict[str, str] = {
    "tracking": "tracking.yaml",
    "contracts": "contracts.yaml",
    "carriers": "carriers.yaml",
    "tms": "tms.yaml",
}


SPECS = SpecFiles(SPEC_DIR, SPEC_FILES)


def spec_paths() -> list[Path]:
    """The four scenario specs (tracking, contracts, carriers, TMS), as shipped files."""
    return SPECS.paths()


def load_spec(key: str) -> dict[str, Any]:
    """A fresh parsed copy of one spec, by short key."""
    return SPECS.load(key)


def spec_title(key: str) -> str:
    return SPECS.title(key)


class ShipmentService(ScenarioService):
    """A service of this scenario: its spec comes from this scenario's ``specs/``."""

    def server_prefix(self) -> str:
        return spec_server_path(load_spec(self.key))

    def request_rules(self) -> dict[str, OperationRules]:
        return spec_operation_rules(load_spec(self.key))
