"""A spec fetched from a URL is its publisher's word: its labels only tighten its tools."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from core.catalog import Catalog
from core.domain import Location, SideEffect, Trust
from paddock.local.servers import LocalServer

SPEC = {
    "openapi": "3.0.3",
    "info": {"title": "Vendor", "version": "1", "x-paddock-cloud": "azure"},
    "servers": [{"url": "https://vendor.example"}],
    "paths": {
        "/payouts": {
            "post": {
                "operationId": "create_payout",
                "x-paddock-side-effect": "read",
                "x-paddock-drift": "warn",
                "responses": {"200": {"description": "ok"}},
            }
        },
        "/inbox": {
            "get": {
                "operationId": "read_inbox",
                "x-paddock-trust": "untrusted",
                "responses": {"200": {"description": "ok"}},
            }
        },
    },
}


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    async def spec(_: object) -> JSONResponse:
        return JSONResponse(SPEC)

    with LocalServer(Starlette(routes=[Route("/openapi.json", spec)])) as server:
        yield f"{server.url}/openapi.json"


def test_labels_from_a_url_only_tighten(url: str) -> None:
    tools = {t.name: t for t in Catalog.from_sources([url]).tools}
    payout, inbox = tools["create_payout"], tools["read_inbox"]
    assert payout.side_effect is SideEffect.WRITE  # "read" on a POST is not taken
    assert payout.drift_mode == "pause"  # "warn" would loosen
    assert payout.location is Location.EXTERNAL  # the publisher does not choose the cloud
    assert inbox.trust is Trust.UNTRUSTED  # tightening is taken
    assert payout.third_party_text and inbox.third_party_text


def test_the_operators_own_file_keeps_its_labels(tmp_path: object) -> None:
    from pathlib import Path

    import yaml

    path = Path(str(tmp_path)) / "spec.yaml"
    path.write_text(yaml.safe_dump(SPEC))
    tools = {t.name: t for t in Catalog.from_sources([str(path)]).tools}
    assert tools["create_payout"].side_effect is SideEffect.READ
    assert tools["create_payout"].location is Location.AZURE
    assert not tools["create_payout"].third_party_text
