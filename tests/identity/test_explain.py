"""``paddock identity explain RUN_ID``: per step, what was granted and why."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from paddock.cli.main import main


@pytest.fixture()
def demo_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> str:
    monkeypatch.setenv("PADDOCK_HOME", str(tmp_path))
    monkeypatch.setenv("PADDOCK_TRACE_FILE", str(tmp_path / "traces.jsonl"))
    assert main(["demo", "--approve", "auto", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    return str(summary["run_id"])


def test_explain_lists_grants_and_reasons(
    demo_run: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["identity", "explain", demo_run, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    calls = {(s["step"], c["tool"]): c for s in report["steps"] for c in s["calls"]}
    search = next(c for (_, tool), c in calls.items() if tool == "search_suppliers")
    scope = search["granted"]["credential"]
    assert scope["action"] == "execute-api:Invoke"
    assert scope["resource"].endswith("/$default/GET/suppliers")
    assert "local static AWS credentials" in search["granted"]["source"]
    stock = next(c for (_, tool), c in calls.items() if tool == "get_stock")
    assert stock["granted"]["credential"]["audience"] == "api://paddock-erp"
    bank = next(c for (_, tool), c in calls.items() if tool == "update_vendor_bank")
    assert bank["granted"] is None
    assert bank["not_granted"] == "denied by the guardrails: no token, no credential"
    assert any("bank_details_change" in w for w in bank["why"])
    order = next(c for (_, tool), c in calls.items() if tool == "create_purchase_order")
    assert any(
        w.startswith("approval apr_") and "approved by auto-approver" in w for w in order["why"]
    )
    assert report["grant"]["side_effects"] == ["read", "write"]


def test_explain_as_text(demo_run: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["identity", "explain", demo_run]) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"run {demo_run} (tenant default, succeeded)")
    assert "credential: entra — token for audience api://paddock-erp only" in text
    assert (
        "credential: api_key — secret paddock/supplier-risk-api/apikey (value never "
        "recorded)" in text
    )
    assert "granted: nothing — denied by the guardrails" in text


def test_unknown_run_is_a_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PADDOCK_HOME", str(tmp_path))
    assert main(["identity", "explain", "run_missing"]) == 2
    assert capsys.readouterr().err == "paddock: error: no run run_missing\n"
