"""The console in a real browser (headless Chromium driven by Playwright) on the dev server:
approve and reject a paused run from the inbox, watch the timeline finish without reloading,
a requester who cannot approve, the inbox on a phone screen, and sign-in (a pasted token; a
forged cross-site sign-in refused). Screenshots go to the test output directory
(``test-output/console`` or ``$PADDOCK_TEST_OUTPUT/console``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from paddock.dev.server import DevServer
from tests.console.conftest import FINISHED, csrf_of, run_json, start_run, wait_status

pytestmark = pytest.mark.browser
NewPage = Callable[..., Any]
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}


def dev_sign_in(page: Any, dev: DevServer, persona: str, prefix: str = "/aws") -> None:
    page.goto(f"{dev.url}{prefix}/console/")
    assert page.url.endswith("/console/signin")  # signed out: sent to the sign-in page
    page.get_by_label(persona, exact=False).check()
    page.get_by_role("button", name="Dev sign-in").click()
    page.wait_for_url("**/console/inbox")


def paused(dev: DevServer) -> dict[str, Any]:
    run_id = start_run(dev)
    view = wait_status(dev, run_id, ("awaiting_approval", *FINISHED))
    assert view["status"] == "awaiting_approval"
    return view


def card(page: Any, approval_id: str) -> Any:
    return page.locator(f'article[data-approval="{approval_id}"]')


def test_approve_from_the_inbox_and_watch_the_run_finish(
    dev: DevServer, new_page: NewPage, output_dir: Path
) -> None:
    view = paused(dev)
    approval = view["pending_approvals"][0]
    page = new_page(viewport={"width": 1280, "height": 900})
    dev_sign_in(page, dev, "bob@acme.example")
    item = card(page, approval["id"])
    item.wait_for()
    # The exact call, where it goes, why it was stopped, and what the agent thought.
    assert "create_purchase_order" in item.locator("h3").inner_text()
    assert "POST" in item.locator(".location").inner_text()
    assert approval["rule_ids"] and all(r in item.inner_text() for r in approval["rule_ids"])
    assert all(r in item.inner_text() for r in approval["reasons"])
    assert "V-2001" in item.locator("pre.args").inner_text()
    assert item.locator(".confidence").inner_text().endswith("%")
    assert item.locator(".cost").inner_text().startswith("$")
    page.screenshot(path=str(output_dir / "inbox.png"), full_page=True)
    # A second tab shows the paused run; it must follow the run without being reloaded.
    watcher = page.context.new_page()
    watcher.goto(f"{dev.url}/aws/console/runs/{view['run_id']}")
    assert watcher.locator("#run-status").inner_text() == "awaiting_approval"
    watcher.evaluate("window.__notReloaded = true")

    item.get_by_label("Comment (optional)").fill("Nordic is the approved second source.")
    item.get_by_role("button", name="Approve this call").click()
    page.wait_for_url(f"**/runs/{view['run_id']}?decided={approval['id']}")
    assert "You approved" in page.locator("#outcome").inner_text()
    # The page was loaded while the run was still going; the timeline catches up by itself.
    page.locator("#run-status", has_text="succeeded").wait_for(timeout=60_000)
    assert page.locator(".final").count() >= 1
    decision = page.locator(f"#decision-{approval['id']}").inner_text()
    assert "approved by bob@acme.example" in decision
    assert "Nordic is the approved second source." in decision
    page.screenshot(path=str(output_dir / "run-approved.png"), full_page=True)
    watcher.locator("#run-status", has_text="succeeded").wait_for(timeout=60_000)
    assert watcher.evaluate("window.__notReloaded") is True
    assert watcher.locator(f"#decision-{approval['id']}").count() == 1
    assert run_json(dev, view["run_id"])["status"] == "succeeded"


def test_reject_from_the_run_page(dev: DevServer, new_page: NewPage, output_dir: Path) -> None:
    view = paused(dev)
    approval = view["pending_approvals"][0]
    page = new_page()
    dev_sign_in(page, dev, "bob@acme.example", prefix="/azure")
    page.get_by_role("link", name=f"run {view['run_id']}").click()
    page.wait_for_url(f"**/runs/{view['run_id']}")
    item = card(page, approval["id"])
    item.get_by_label("Comment (optional)").fill("Price is too high; renegotiate.")
    item.get_by_role("button", name="Reject").click()
    assert "You rejected" in page.locator("#outcome").inner_text()
    assert "will not be made" in page.locator("#outcome").inner_text()
    page.locator("#run-status").filter(has_text="s").wait_for()
    final = wait_status(dev, view["run_id"], FINISHED)
    page.locator("#run-status", has_text=final["status"]).wait_for(timeout=60_000)
    page.screenshot(path=str(output_dir / "run-rejected.png"), full_page=True)
    decided = next(a for a in final["approvals"] if a["id"] == approval["id"])
    assert decided["status"] == "rejected"
    assert decided["decided_by"] == "bob@acme.example"
    order = [c for s in final["steps"] for c in s["calls"] if c["call_id"] == approval["call_id"]]
    assert order and not order[0]["executed"]  # the rejected order was never sent


def test_a_requester_sees_the_request_but_cannot_approve(
    dev: DevServer, new_page: NewPage, output_dir: Path
) -> None:
    view = paused(dev)
    approval = view["pending_approvals"][0]
    page = new_page()
    dev_sign_in(page, dev, "alice@acme.example")
    item = card(page, approval["id"])
    item.wait_for()
    assert item.get_by_role("button", name="Approve this call").count() == 0
    assert "needs the approver role" in item.inner_text()
    page.screenshot(path=str(output_dir / "inbox-requester.png"), full_page=True)
    # Forge the form the UI does not offer, with alice's own valid CSRF token: refused.
    csrf = page.locator('header input[name="csrf"]').get_attribute("value")
    page.evaluate(
        """([action, csrf, hash]) => {
             const f = document.createElement('form');
             f.method = 'post'; f.action = action;
             for (const [k, v] of [['csrf', csrf], ['decision', 'approve'], ['args_hash', hash]]) {
               const i = document.createElement('input'); i.type = 'hidden';
               i.name = k; i.value = v; f.appendChild(i);
             }
             document.body.appendChild(f); f.submit();
           }""",
        [f"approvals/{view['run_id']}/{approval['id']}", csrf, approval["args_hash"]],
    )
    page.wait_for_url(f"**/approvals/{view['run_id']}/{approval['id']}")
    assert page.get_by_role("heading", name="Not allowed").is_visible()
    assert "approver role" in page.locator(".notice").inner_text()
    assert run_json(dev, view["run_id"])["status"] == "awaiting_approval"


def test_the_inbox_fits_a_phone_and_works_by_keyboard(
    dev: DevServer, new_page: NewPage, output_dir: Path
) -> None:
    view = paused(dev)
    approval = view["pending_approvals"][0]
    page = new_page(**PHONE)
    dev_sign_in(page, dev, "bob@acme.example")
    item = card(page, approval["id"])
    item.wait_for()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px on a phone"
    button = item.get_by_role("button", name="Approve this call")
    box = button.bounding_box()
    assert box is not None and box["height"] >= 44 and box["width"] <= 390
    page.screenshot(path=str(output_dir / "inbox-phone.png"), full_page=True)
    # Every form field has a label; the skip link is the first thing Tab reaches.
    unlabelled = page.evaluate("""() => [...document.querySelectorAll(
        'input:not([type=hidden]), textarea, select')].filter(
        e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).length""")
    assert unlabelled == 0
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    # Approve by keyboard alone: focus the comment, type, tab to the button, press Enter.
    item.get_by_label("Comment (optional)").focus()
    page.keyboard.type("ok from my phone")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Approve this call"
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/runs/{view['run_id']}?decided={approval['id']}")
    assert "You approved" in page.locator("#outcome").inner_text()
    wait_status(dev, view["run_id"], FINISHED)


def test_stop_a_run_with_confirmation(dev: DevServer, new_page: NewPage, output_dir: Path) -> None:
    view = paused(dev)
    page = new_page()
    dev_sign_in(page, dev, "alice@acme.example")
    page.goto(f"{dev.url}/aws/console/runs/{view['run_id']}")
    page.get_by_text("Stop run…").click()
    page.get_by_label("Reason").fill("wrong plant")
    stop = page.get_by_role("button", name="Stop this run")
    stop.click()  # the confirmation box is not ticked: the browser does not send the form
    assert page.url.endswith(f"/runs/{view['run_id']}")
    assert run_json(dev, view["run_id"])["status"] == "awaiting_approval"
    page.get_by_label("I understand the run stops").check()
    page.screenshot(path=str(output_dir / "run-stop.png"), full_page=True)
    stop.click()
    page.locator("#run-status", has_text="killed").wait_for()
    assert "wrong plant" in page.locator(".facts").inner_text()
    assert page.get_by_role("button", name="Stop this run").count() == 0


def test_sign_in_with_a_pasted_token(dev: DevServer, new_page: NewPage) -> None:
    page = new_page()
    page.goto(f"{dev.url}/azure/console/signin")
    page.get_by_role("textbox", name="Access token").fill(dev.tokens()["APPROVER"])
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url("**/console/inbox")
    assert "bob@acme.example" in page.locator("header").inner_text()


def test_another_site_cannot_sign_the_browser_in(dev: DevServer, new_page: NewPage) -> None:
    # Login CSRF: a page on another site posts the sign-in form with the attacker's own token
    # (and the form token of a sign-in page the attacker loaded in their own browser). The
    # victim has the console's sign-in page open in another tab, so holds a nonce cookie.
    attacker = httpx.Client(base_url=f"{dev.url}/aws", timeout=30)
    stolen = csrf_of(attacker.get("/console/signin").text)
    mallory = dev.issuer.token("mallory@acme.example", "acme", ["approver"])
    page = new_page()
    page.goto(f"{dev.url}/aws/console/signin")
    evil = f"""<!doctype html><form id="f" method="post" action="{dev.url}/aws/console/signin">
      <input name="token" value="{mallory}"><input name="csrf" value="{stolen}"></form>
      <script>document.getElementById("f").submit();</script>"""
    page.route(
        "http://evil.example/**",
        lambda route: route.fulfill(status=200, content_type="text/html", body=evil),
    )
    page.goto("http://evil.example/win-a-prize")
    page.wait_for_url(f"{dev.url}/aws/console/signin")
    assert page.get_by_role("heading", name="Not allowed").is_visible()
    assert "another site" in page.locator(".notice").inner_text()
    assert not [c for c in page.context.cookies() if c["name"] == "paddock_console"]
    page.goto(f"{dev.url}/aws/console/inbox")
    assert page.url.endswith("/console/signin")  # still signed out
