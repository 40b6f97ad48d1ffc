"""``paddock run`` against a drifting service with a model (the real openai client against
ScriptedOpenAI): the run pauses, the output names the drift and the field, nothing is written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from paddock.cli.main import main
from paddock.local.servers import LocalServer
from paddock.testing.fake_openai import ScriptedOpenAI, ToolCall, ToolCallsReply
from tests.drift.service import SupplierService


def test_paddock_run_pauses_on_drift_and_names_the_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    service = SupplierService()
    service.renamed = True
    service.sunset = "Wed, 30 Jun 2027 23:59:59 GMT"
    script = [
        ToolCallsReply([ToolCall("getSupplier", {"name": "Acme"})]),
        ToolCallsReply([ToolCall("createOrder", {"body": {"supplier_id": "S-17", "quantity": 5}})]),
    ]
    with LocalServer(service.app) as server, ScriptedOpenAI(script) as model:
        monkeypatch.setenv("PADDOCK_HOME", str(tmp_path))
        monkeypatch.setenv("OPENAI_API_KEY", "test")
        monkeypatch.setenv("OPENAI_BASE_URL", model.base_url)
        code = main(
            [
                "run",
                "--catalog",
                f"{server.url}/openapi.json",
                "--goal",
                "order 5 units from Acme",
                "--llm",
                "openai",
                "--approve",
                "defer",
                "--store",
                "memory",
                "--json",
            ]
        )
        asked = len(model.bodies)
    captured = capsys.readouterr()
    assert code == 3
    summary = json.loads(captured.out.strip().splitlines()[-1])
    assert summary["status"] == "awaiting_approval"
    assert summary["reason"] == "schema_drift: getSupplier ($.ID)"
    [call] = summary["calls"]
    assert call["drift"][0]["field"] == "$.ID" and call["result_valid"] is False
    assert call["spec_version"].startswith("1.0 sha256:")
    assert summary["pending_approvals"][0]["rule_ids"] == ["schema_drift"]
    assert "schema drift" in captured.err and "$.ID" in captured.err
    assert "notice: the backend says GET /suppliers/{name} will be withdrawn" in captured.err
    assert asked == 1 and service.writes == []
