"""Fixtures of the catalog tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.catalog.limits import load_limits


@pytest.fixture()
def warn_refs() -> Iterator[None]:
    """The operator's opt-out: unresolvable ``$ref``s import as 'any value', with a warning."""
    with load_limits(strict_refs=False):
        yield
