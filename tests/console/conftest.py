"""Console fixtures: one dev server (in-memory backend) per module, signed-in HTTP clients, and
a headless Chromium (Debian's /usr/bin/chromium, driven by Playwright) for browser tests."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from paddock.dev.server import DevServer

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("PADDOCK_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
FINISHED = ("succeeded", "needs_review", "failed", "killed")


@pytest.fixture(scope="module")
def dev() -> Iterator[DevServer]:
    with DevServer(backend="memory", env={}, poll_seconds=0.05) as server:
        yield server


def sign_in(
    dev: DevServer, persona: str, *, prefix: str = "/aws", tenant: str = "acme"
) -> httpx.Client:
    """An HTTP client signed in to the console with the dev sign-in, as a browser does it:
    load the sign-in page (its nonce cookie and form token), then post the form."""
    client, token = signin_page(dev, prefix=prefix)
    response = client.post(
        "/console/signin", data={"persona": persona, "tenant": tenant, "csrf": token}
    )
    assert response.status_code == 303, response.text
    return client


def signin_page(dev: DevServer, *, prefix: str = "/aws") -> tuple[httpx.Client, str]:
    """A client that has loaded the sign-in page (so holds its nonce cookie), and the
    form's CSRF token."""
    client = httpx.Client(base_url=dev.url + prefix, timeout=30)
    page = client.get("/console/signin")
    assert page.status_code == 200, page.text
    return client, csrf_of(page.text)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def start_run(dev: DevServer, **body: Any) -> str:
    """Start a supply-chain run as alice through the JSON API; returns its id."""
    token = dev.tokens()["TOKEN"]
    response = httpx.post(
        f"{dev.url}/aws/runs",
        json={"scenario": "supply-chain", **body},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert response.status_code == 202, response.text
    run_id: str = response.json()["run_id"]
    return run_id


def run_json(dev: DevServer, run_id: str) -> dict[str, Any]:
    token = dev.tokens()["ADMIN"]
    view: dict[str, Any] = httpx.get(
        f"{dev.url}/azure/runs/{run_id}", timeout=30, headers={"Authorization": f"Bearer {token}"}
    ).json()
    return view


def wait_status(
    dev: DevServer, run_id: str, wanted: tuple[str, ...], timeout: float = 60.0
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        view = run_json(dev, run_id)
        if view["status"] in wanted:
            return view
        assert time.monotonic() < deadline, f"run stuck in {view['status']}"
        time.sleep(0.1)


@pytest.fixture
def paused_run(dev: DevServer) -> Callable[[], dict[str, Any]]:
    """Start a run and wait until it asks for an approval; returns the run's view."""

    def make() -> dict[str, Any]:
        run_id = start_run(dev)
        view = wait_status(dev, run_id, ("awaiting_approval", *FINISHED))
        assert view["status"] == "awaiting_approval", view
        return view

    return make


# -- browser ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def output_dir() -> Path:
    """Where browser tests leave their screenshots (``PADDOCK_TEST_OUTPUT`` or test-output/)."""
    base = Path(os.environ.get("PADDOCK_TEST_OUTPUT", ROOT / "test-output"))
    out = base / "console"
    out.mkdir(parents=True, exist_ok=True)
    return out


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for one test module. Playwright's sync API keeps an event loop running in
    this thread while it lives, so it must not outlive the browser tests."""
    if not CHROMIUM.exists():
        pytest.skip(
            f"browser tests need Chromium at {CHROMIUM} (scripts/test installs it "
            "with apt-get when run as root)"
        )
    from playwright import sync_api  # the dev extra installs it

    # launch() gives Chromium a fresh temporary --user-data-dir of its own (and deletes it).
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def new_page(browser: Any) -> Iterator[Callable[..., Any]]:
    """Open a page in a fresh browser context (own cookies); closed after the test."""
    contexts: list[Any] = []

    def make(**options: Any) -> Any:
        context = browser.new_context(**options)
        context.set_default_timeout(20_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
