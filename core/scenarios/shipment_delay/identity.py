"""How each local service of the shipment-delay scenario checks credentials, as its spec's
security scheme says: tracking and the TMS (``aws_sigv4``) verify SigV4, the contract
repository and the carrier marketplace (``entra``) a bearer JWT for their audience."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.scenarios.shipment_delay._spec import SPEC_FILES, spec_paths, spec_title
from core.scenarios.supply_chain._service import Verifier

if TYPE_CHECKING:
    from core.identity.local import LocalIdentity


def local_verifiers(local: LocalIdentity) -> dict[str, Verifier]:
    """``verify_auth`` for :class:`ShipmentDelayServices`, checking ``local``'s credentials."""
    from core.catalog import Catalog

    catalog = Catalog.from_sources([str(p) for p in spec_paths()])
    checks: dict[str, Verifier] = {}
    for key in SPEC_FILES:
        title = spec_title(key)
        tool = next(t for t in catalog.tools if t.spec is not None and t.spec.title == title)
        check = local.verifier_for(tool)
        if check is not None:
            checks[key] = check
    return checks
