"""Where the scenario's specs are, and the service base that checks requests against them."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml

from core.errors import SpecError
from core.scenarios.supply_chain._service import ScenarioService
from core.scenarios.supply_chain._spec import (
    OperationRules,
    spec_operation_rules,
    spec_server_path,
)

SPEC_DIR = Path(__file__).parent / "specs"
SPEC_FILES: dict[str, str] = {"tracking": "tracking.yaml", "contracts": "contracts.yaml",
                              "carriers": "carriers.yaml", "tms": "tms.yaml"}


def spec_paths() -> list[Path]:
    """The four scenario specs (tracking, contracts, carriers, TMS), as shipped files."""
    return [SPEC_DIR / name for name in SPEC_FILES.values()]


@functools.cache
def _raw_spec(key: str) -> str:
    return (SPEC_DIR / SPEC_FILES[key]).read_text(encoding="utf-8")


def load_spec(key: str) -> dict[str, Any]:
    """A fresh parsed copy of one spec, by short key."""
    loaded = yaml.safe_load(_raw_spec(key))
    if not isinstance(loaded, dict):
        raise SpecError(f"scenario spec {key!r} is not a mapping")
    return loaded


def spec_title(key: str) -> str:
    return str(load_spec(key)["info"]["title"])


class ShipmentService(ScenarioService):
    """A service of this scenario: its spec comes from this scenario's ``specs/``."""

    def server_prefix(self) -> str:
        return spec_server_path(load_spec(self.key))

    def request_rules(self) -> dict[str, OperationRules]:
        return spec_operation_rules(load_spec(self.key))
