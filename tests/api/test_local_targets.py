"""Local mode: a scenario run's base URL overrides may name only the ports of the services the
scenario started (or ports the operator lists), so a caller cannot have the scenario's
credentials sent to a listener of its own on 127.0.0.1."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from core.api.deps import Deps
from core.api.local_targets import is_local
from core.errors import ConfigError
from core.settings import Settings, parse_ports
from paddock.dev.server import DevServer
from paddock.local.servers import LocalServer
from tests.api.world import World

ERP = "ERP Materials Management API"


class Listener:
    """A stranger's HTTP listener on 127.0.0.1 that records every request it gets."""

    def __init__(self) -> None:
        self.seen: list[dict[str, str]] = []
        self.app = Starlette(
            routes=[
                Route("/{path:path}", self.any, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
            ]
        )

    async def any(self, request: Request) -> JSONResponse:
        self.seen.append({"path": request.url.path, **dict(request.headers)})
        return JSONResponse({"error": "nothing here"}, status_code=404)


@pytest.fixture(scope="module")
def listeners() -> Iterator[tuple[tuple[Listener, str], tuple[Listener, str]]]:
    """The attacker's listener, and one the operator allow-lists."""
    attacker, allowed = Listener(), Listener()
    with (
        LocalServer(attacker.app, name="attacker") as a,
        LocalServer(allowed.app, name="allowed") as b,
    ):
        yield (attacker, a.url), (allowed, b.url)


@pytest.fixture(scope="module")
def dev(listeners: tuple[tuple[Listener, str], tuple[Listener, str]]) -> Iterator[DevServer]:
    (_, _), (_, allowed_url) = listeners
    port = allowed_url.rsplit(":", 1)[1]
    with DevServer(
        backend="memory", env={"PADDOCK_LOCAL_BASE_URL_PORTS": port}, poll_seconds=0.05
    ) as server:
        yield server


def _alice(dev: DevServer) -> dict[str, str]:
    return {"Authorization": f"Bearer {dev.tokens()['TOKEN']}"}


def test_a_scenario_tool_pointed_at_a_strangers_listener_is_refused_and_gets_nothing(
    dev: DevServer, listeners: tuple[tuple[Listener, str], tuple[Listener, str]]
) -> None:
    (attacker, url), _ = listeners
    with httpx.Client(base_url=dev.url, timeout=30) as client:
        for adapter in ("aws", "azure"):
            response = client.post(
                f"/{adapter}/runs",
                headers=_alice(dev),
                json={"scenario": "supply-chain", "base_urls": {ERP: f"{url}/erp"}},
            )
            assert response.status_code == 400, response.text
            error = response.json()["error"]
            assert error["code"] == "base_url_not_allowed"
            assert ERP in error["message"] and "PADDOCK_LOCAL_BASE_URL_PORTS" in error["message"]
        time.sleep(0.5)  # the workers poll every 0.05 s: give a leak the time to happen
        runs = client.get("/aws/runs", headers=_alice(dev)).json()["runs"]
    assert runs == []
    assert attacker.seen == []


def test_the_scenarios_own_ports_and_the_operators_list_are_accepted(
    dev: DevServer, listeners: tuple[tuple[Listener, str], tuple[Listener, str]]
) -> None:
    _, (allowed, url) = listeners
    own = dev.services.base_urls[ERP]
    with httpx.Client(base_url=dev.url, timeout=30) as client:
        same = client.post(
            "/aws/runs",
            headers=_alice(dev),
            json={
                "scenario": "supply-chain",
                "base_urls": {ERP: own.replace("127.0.0.1", "localhost")},
            },
        )
        assert same.status_code == 202, same.text
        client.post(f"/aws/runs/{same.json()['run_id']}/cancel", headers=_alice(dev), json={})
        listed = client.post(
            "/aws/runs",
            headers=_alice(dev),
            json={"scenario": "supply-chain", "base_urls": {ERP: f"{url}/erp"}},
        )
        assert listed.status_code == 202, listed.text
        deadline = time.monotonic() + 30
        while not allowed.seen and time.monotonic() < deadline:
            time.sleep(0.05)
        client.post(f"/aws/runs/{listed.json()['run_id']}/cancel", headers=_alice(dev), json={})
    # What the refused request would have leaked: the ERP call with its bearer token.
    assert allowed.seen and allowed.seen[0]["path"].startswith("/erp/")
    assert allowed.seen[0]["authorization"].startswith("Bearer ")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/erp",  # a loopback port nobody allowed
        "http://localhost:9/erp",
        "http://127.0.0.1/erp",  # no port: 80
        "https://127.0.0.1/erp",  # no port: 443
        "http://127.0.0.1:99999/erp",  # no port at all
        "http://127.0.0.1:0/erp",
    ],
)
def test_other_loopback_ports_are_400(world: World, url: str) -> None:
    world.deps.workflows = world.deps.workflows.with_base_urls(
        "supply-chain", {ERP: "http://127.0.0.1:8123"}
    )
    response = world.request(
        "POST", "/runs", body={"scenario": "supply-chain", "base_urls": {ERP: url}}
    )
    assert response.status == 400, response.body
    assert response.json()["error"]["code"] == "base_url_not_allowed"
    assert "allowed: 8123" in response.json()["error"]["message"]


def test_one_services_port_may_serve_another_title_of_the_same_scenario(world: World) -> None:
    world.deps.workflows = world.deps.workflows.with_base_urls(
        "supply-chain",
        {
            ERP: "http://127.0.0.1:8123",
            "Supplier Risk API": "http://127.0.0.1:8124",
        },
    )
    response = world.request(
        "POST",
        "/runs",
        body={"scenario": "supply-chain", "base_urls": {ERP: "http://127.0.0.1:8124/erp"}},
    )
    assert response.status == 202, response.body
    run = world.store.get_run(response.json()["run_id"])
    assert run.base_urls[ERP] == "http://127.0.0.1:8124/erp"


def test_without_started_services_only_listed_ports_pass(world: World) -> None:
    world.deps.workflows = world.deps.workflows.with_base_urls("supply-chain", {})
    refused = world.request(
        "POST",
        "/runs",
        body={"scenario": "supply-chain", "base_urls": {ERP: "http://127.0.0.1:8123"}},
    )
    assert refused.status == 400 and "allowed: none" in refused.json()["error"]["message"]
    world.deps.local_ports = frozenset({8123})
    accepted = world.request(
        "POST",
        "/runs",
        body={"scenario": "supply-chain", "base_urls": {ERP: "http://127.0.0.1:8123"}},
    )
    assert accepted.status == 202, accepted.body


def test_the_port_list_setting_is_parsed_strictly() -> None:
    assert parse_ports(None) == parse_ports("  ") == frozenset()
    assert parse_ports("8001, 8002,8001") == {8001, 8002}
    for bad in ("80a", "0", "65536", "-1", "8001,,8002", "8001;8002", "\uff11\uff12\uff13", "nan"):
        with pytest.raises(ConfigError, match="PADDOCK_LOCAL_BASE_URL_PORTS"):
            parse_ports(bad)
    with pytest.raises(ConfigError, match="not 'lots'"):  # at start-up, not at a request
        Settings.from_env({"PADDOCK_LOCAL_MODE": "1", "PADDOCK_LOCAL_BASE_URL_PORTS": "lots"})
    assert Deps(Settings.from_env({"PADDOCK_LOCAL_BASE_URL_PORTS": "8001"})).local_ports == {8001}


@pytest.mark.parametrize(
    ("host", "local"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("0.0.0.0", True),
        ("localhost", True),
        ("LOCALHOST.", True),
        ("api.localhost", True),
        ("10.0.0.1", False),
        ("erp.example.com", False),
        ("", False),
    ],
)
def test_what_counts_as_this_machine(host: str, local: bool) -> None:
    assert is_local(host) is local


def test_the_dev_server_stops_with_one_line_on_a_bad_port_list(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from paddock.dev.server import main

    monkeypatch.setenv("PADDOCK_LOCAL_BASE_URL_PORTS", "8001,nan")
    assert (
        main(["--backend", "memory", "--port", "0", "--env-file", str(tmp_path / "dev.env")]) == 2
    )
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "PADDOCK_LOCAL_BASE_URL_PORTS" in err
    assert "Traceback" not in err and not (tmp_path / "dev.env").exists()
