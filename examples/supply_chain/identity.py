"""How each local service checks credentials: as its spec's security scheme says.

portal (``aws_sigv4``) verifies SigV4 with botocore, erp (``entra``) a bearer JWT from the
local issuer for ``api://paddock-erp``, risk (``api_key``) its ``X-Api-Key``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from examples.supply_chain._spec import SPECS
from paddock.local.service import Verifier

if TYPE_CHECKING:
    from paddock.local.identity import LocalIdentity


def local_verifiers(local: LocalIdentity) -> dict[str, Verifier]:
    """``verify_auth`` for :class:`SupplyChainServices`, checking ``local``'s credentials."""
    return SPECS.verifiers(local)
