"""A tool that fails, for the executor's tests."""

from __future__ import annotations

import paddock


@paddock.tool
def boom() -> None:
    """Always fails."""
    raise RuntimeError("the service is down")
