"""A run that needs review, as the console and the HTTP API show it: the failed writes with
their errors, calls counted by outcome, steps numbered from 1, and no "ran on" for a call that
never ran."""

from __future__ import annotations

import html

import httpx

from core.domain import (
    CallRecord,
    CallStatus,
    Decision,
    Run,
    RunStatus,
    Step,
    StepStatus,
    Verdict,
)
from paddock.dev.server import DevServer
from tests.console.conftest import run_json, sign_in

ORDER = {"body": {"part": "P-100", "quantity": 40, "vendor_id": "V-2001"}}


def stored_run(dev: DevServer, run_id: str) -> None:
    """A finished run as the engine leaves it: a denied delete, a purchase order that failed
    with connection refused, and a final answer that claims the order went out."""
    denied = CallRecord(
        call_id="c-del",
        tool="delete_vendor",
        args={"vendor_id": "V-1"},
        cloud="azure",
        side_effect="destructive",
        status=CallStatus.DENIED,
        decision=Decision(id="d1", verdict=Verdict.DENY, reasons=["no deletes"], rule_ids=["r1"]),
    )
    failed = CallRecord(
        call_id="c-po",
        tool="create_purchase_order",
        args=ORDER,
        cloud="aws",
        side_effect="write",
        status=CallStatus.ERROR,
        decision=Decision(id="d2", verdict=Verdict.ALLOW),
        worker="aws",
        error="connection failed: [Errno 111] Connection refused",
    )
    steps = [
        Step(index=0, status=StepStatus.DONE, calls=[denied, failed], reasoning="order"),
        Step(index=1, status=StepStatus.DONE, final_answer="Purchase order created."),
    ]
    store = dev.deps["aws"].store
    run = store.create_run(
        Run(
            id=run_id,
            goal="order 40 of P-100",
            tenant="acme",
            status=RunStatus.NEEDS_REVIEW,
            result="Purchase order created.",
            reason="needs review: 1 failed write call not recovered",
            step_count=2,
        )
    )
    store.checkpoint(run, expected_version=run.version, steps=steps)


def test_the_api_lists_the_failed_writes_and_counts_calls_by_outcome(dev: DevServer) -> None:
    stored_run(dev, "run_review_api")
    view = run_json(dev, "run_review_api")
    assert view["status"] == "needs_review"
    assert [s["step"] for s in view["steps"]] == [1, 2]
    [failed] = view["failed_writes"]
    assert (failed["step"], failed["tool"]) == (1, "create_purchase_order")
    assert "Connection refused" in failed["error"]
    assert view["calls"] == {
        "executed": 0,
        "failed": 1,
        "denied": 1,
        "approved": 0,
        "rejected": 0,
        "awaiting_approval": 0,
    }
    listed = httpx.get(
        f"{dev.url}/aws/runs",
        params={"status": "needs_review"},
        headers={"Authorization": f"Bearer {dev.tokens()['ADMIN']}"},
        timeout=30,
    ).json()
    assert "run_review_api" in [r["run_id"] for r in listed["runs"]]


def test_the_console_shows_what_needs_review(dev: DevServer) -> None:
    stored_run(dev, "run_review_page")
    page = sign_in(dev, "approver").get("/console/runs/run_review_page")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert 'class="status s-needs_review"' in text
    assert "Needs review: failed writes" in text
    assert "step 1</a> · <code>create_purchase_order</code> (write)" in text
    assert "Connection refused" in text
    assert "0 executed · 1 failed · 1 denied · 0 approved" in text
    assert "<h3>Step 1 " in text and "<h3>Step 0 " not in text
    delete = text[text.index("<code>delete_vendor</code>") :][:300]
    assert "not run" in delete and "ran on" not in delete
    order = text[text.index("<code>create_purchase_order</code> ·") :][:300]
    assert "ran on <strong>aws</strong>" in order
