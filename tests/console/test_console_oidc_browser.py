"""OpenID Connect sign-in in a real browser (headless Chromium): the console sends the browser
to a provider on 127.0.0.1, the user picks an account there, the provider redirects back, and
the session cookie carries the user through the inbox; then sign-out. Kept to one sign-in and
one sign-out (CI has two cores)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.console.oidc_world import OidcWorld, oidc_world

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def world() -> Iterator[OidcWorld]:
    with oidc_world(
        PADDOCK_CONSOLE_ROLES_CLAIM="cognito:groups",
        PADDOCK_CONSOLE_TENANT_CLAIM="custom:tenant",
        PADDOCK_CONSOLE_ROLE_MAP="paddock-admins=admin",
    ) as made:
        yield made


def test_sign_in_with_the_provider_then_sign_out(
    world: OidcWorld, new_page: Callable[..., Any], output_dir: Path
) -> None:
    page = new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{world.console}/")
    assert page.url.endswith("/console/signin")
    page.get_by_role("link", name="Sign in with single sign-on").click()
    page.wait_for_url(f"{world.provider.issuer}/authorize?*")
    page.get_by_role("button", name="Sign in as carol").click()
    page.wait_for_url("**/console/inbox")
    header = page.locator("header").inner_text()
    assert "carol" in header and "globex" in header
    cookies = {c["name"]: c for c in page.context.cookies()}
    session = cookies["paddock_console"]
    assert session["httpOnly"] and session["sameSite"] == "Strict"
    assert page.evaluate("document.cookie") == ""  # scripts cannot read the session
    page.goto(f"{world.console}/kill-switch")  # an admin page: the mapped group counts
    assert page.get_by_role("heading", level=1).inner_text().lower().startswith("kill")
    page.screenshot(path=str(output_dir / "oidc-signed-in.png"))
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/console/signin")
    page.goto(f"{world.console}/inbox")
    assert page.url.endswith("/console/signin")
