"""How each local service of the shipment-delay scenario checks credentials, as its spec's
security scheme says: tracking and the TMS (``aws_sigv4``) verify SigV4, the contract
repository and the carrier marketplace (``entra``) a bearer JWT for their audience."""

from __future__ import annotations

from typing import TYPE_CHECKING

from examples.shipment_delay._spec import SPECS
from paddock.local.service import Verifier

if TYPE_CHECKING:
    from paddock.local.identity import LocalIdentity


def local_verifiers(local: LocalIdentity) -> dict[str, Verifier]:
    """``verify_auth`` for :class:`ShipmentDelayServices`, checking ``local``'s credentials."""
    return SPECS.verifiers(local)
