"""Supply-chain recovery: plant DE01 is out of part P-100; source 500 units safely.

Three local services with their own OpenAPI specs (shipped in ``specs/``): an SAP-like ERP
(``azure``), a supplier portal whose inbox is untrusted text (``aws``) and a third-party risk
service (``external``). Start them with :class:`SupplyChainServices`.
"""

from __future__ import annotations

from examples.supply_chain._spec import load_spec, spec_paths
from examples.supply_chain.data import GOAL
from examples.supply_chain.erp import ErpService, iban_valid
from examples.supply_chain.portal import PortalService
from examples.supply_chain.risk import RiskService, require_api_key, risk_level
from examples.supply_chain.services import SupplyChainServices
from paddock.local.service import (
    Clock,
    RecordedRequest,
    ScenarioService,
    Verifier,
)

__all__ = [
    "GOAL",
    "Clock",
    "ErpService",
    "PortalService",
    "RecordedRequest",
    "RiskService",
    "ScenarioService",
    "SupplyChainServices",
    "Verifier",
    "iban_valid",
    "load_spec",
    "require_api_key",
    "risk_level",
    "spec_paths",
]
