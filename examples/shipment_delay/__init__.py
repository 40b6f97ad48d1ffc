"""Shipment-delay recovery: SH-4471 is 3 days late; re-route it as the contract allows.

Four local services with their own OpenAPI specs (``specs/``): carrier tracking (``aws``),
the contract repository with clause search over real PDF files (``azure``, untrusted text),
an alternative-carrier marketplace in another region (``azure``) and the transport management
system that records re-routing requests (``aws``). Start them with
:class:`ShipmentDelayServices`.
"""

from __future__ import annotations

from examples.shipment_delay._spec import load_spec, spec_paths
from examples.shipment_delay.data import GOAL
from examples.shipment_delay.services import ShipmentDelayServices

__all__ = ["GOAL", "ShipmentDelayServices", "load_spec", "spec_paths"]
