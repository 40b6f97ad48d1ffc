from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.identity.backend import GuardedBackend


@pytest.fixture()
def backend() -> Iterator[GuardedBackend]:
    server = GuardedBackend().start()
    yield server
    server.stop()
