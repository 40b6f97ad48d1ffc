"""Local mode keeps Lambda's metric lines off the terminal.

On Lambda, Powertools prints each metric as a CloudWatch embedded-metric-format (EMF) JSON line
on stdout, and CloudWatch turns the lines into metrics. Run in-process by the dev server, the
AWS handlers would print those lines by the dozen with nothing to read them. Locally, run
metrics go through Paddock's OpenTelemetry pipeline instead (``PADDOCK_METRICS=otel`` with an
OTLP endpoint or the console exporter, docs/observability.md), so EMF printing is switched off
while the dev server runs: ``POWERTOOLS_METRICS_DISABLED=true``, unless the operator set that
variable (``false`` shows the lines again).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

EMF_SWITCH = "POWERTOOLS_METRICS_DISABLED"


@contextmanager
def quiet_emf() -> Iterator[None]:
    """Switch Powertools' EMF output off for the duration (Powertools reads the variable when
    it flushes); leave an operator's own setting alone, and restore the environment after."""
    if EMF_SWITCH in os.environ:
        yield
        return
    os.environ[EMF_SWITCH] = "true"
    try:
        yield
    finally:
        os.environ.pop(EMF_SWITCH, None)
