"""How each local service checks credentials: as its spec's security scheme says.

portal (``aws_sigv4``) verifies SigV4 with botocore, erp (``entra``) a bearer JWT from the
local issuer for ``api://paddock-erp``, risk (``api_key``) its ``X-Api-Key``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.scenarios.supply_chain._service import Verifier
from core.scenarios.supply_chain._spec import spec_paths, spec_title

if TYPE_CHECKING:
    from core.identity.local import LocalIdentity

KEYS = ("erp", "portal", "risk")


def local_verifiers(local: LocalIdentity) -> dict[str, Verifier]:
    """``verify_auth`` for :class:`SupplyChainServices`, checking ``local``'s credentials."""
    from core.catalog import Catalog

    catalog = Catalog.from_sources([str(p) for p in spec_paths()])
    checks: dict[str, Verifier] = {}
    for key in KEYS:
        title = spec_title(key)
        tool = next(t for t in catalog.tools if t.spec is not None and t.spec.title == title)
        check = local.verifier_for(tool)
        if check is not None:
            checks[key] = check
    return checks
