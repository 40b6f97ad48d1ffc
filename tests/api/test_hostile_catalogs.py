"""``POST /runs`` with a hostile catalog URL: 422 ``invalid_catalog`` naming the cap, never a 500
or a worker filling its memory (the loader's caps apply; see tests/catalog/test_hostile_inputs.py
for peak-RSS measurements)."""

from __future__ import annotations

import resource
from collections.abc import Iterator

import pytest

from tests.api.world import World
from tests.catalog.hostile import gzip_bomb, hostile_site


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    with hostile_site(gzip_bomb()) as url:
        yield url


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("/bomb.json.gz", "PADDOCK_CATALOG_MAX_DECOMPRESSED_BYTES"),
        ("/deep.json", "nested too deeply"),
        ("/deep.yaml", "nesting depth"),
        ("/to-metadata", "'metadata.internal.example' is not one this deployment"),
        ("/ref.json", "$ref '#/components/schemas/Gone' cannot be resolved"),
    ],
)
def test_a_hostile_catalog_is_422_invalid_catalog(
    world: World, site: str, path: str, says: str
) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    response = world.request("POST", "/runs", body={"goal": "g", "catalog": [site + path]})
    assert response.status == 422, response.body[:300]
    error = response.json()["error"]
    assert error["code"] == "invalid_catalog" and says in error["message"]
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 120  # the bomb alone would be 1 GiB
    assert world.store.list_runs().runs == []


def test_a_redirect_that_stays_on_allowed_hosts_is_followed(world: World, site: str) -> None:
    # /hop -> 127.0.0.1 -> localhost: both loopback names are allowed in local mode
    response = world.request("POST", "/runs", body={"goal": "g", "catalog": [site + "/hop"]})
    assert response.status == 202, response.body[:300]
