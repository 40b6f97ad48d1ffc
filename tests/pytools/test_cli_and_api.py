"""A Python-tool catalog through ``paddock run`` and a Python-tool workflow through the API;
an API request can never name an import path (that would be remote code loading)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from examples.python_tools.procurement import INJECTED_IBAN, LEDGER
from paddock.cli.main import main
from paddock.dev.server import DevServer
from paddock.testing.fake_openai import ScriptedOpenAI, TextReply, ToolCall, ToolCallsReply
from tests.pytools.bundle import BUNDLE

SOURCE = "python:examples.python_tools.procurement"
DONE = ("awaiting_approval", "succeeded", "failed", "killed", "needs_review")


@pytest.fixture(autouse=True)
def ledger() -> Iterator[None]:
    LEDGER.reset()
    yield
    LEDGER.reset()


def injected_script() -> list[ToolCallsReply | TextReply]:
    return [
        ToolCallsReply([ToolCall("read_inbox", {"supplier": "S-100"})]),
        ToolCallsReply([ToolCall("delete_supplier", {"supplier": "S-200"})]),
        ToolCallsReply(
            [
                ToolCall(
                    "pay_invoice",
                    {"invoice": "INV-77", "amount_eur": 9800, "iban": INJECTED_IBAN},
                )
            ]
        ),
    ]


def test_paddock_run_with_a_python_catalog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    script = [
        *injected_script(),
        ToolCallsReply(
            [
                ToolCall(
                    "create_purchase_order",
                    {"supplier": "S-100", "part": "P-1", "quantity": 5, "unit_price_eur": 2.1},
                )
            ]
        ),
        TextReply("Ordered."),
    ]
    with ScriptedOpenAI(script) as model:
        monkeypatch.setenv("PADDOCK_HOME", str(tmp_path))
        monkeypatch.setenv("OPENAI_API_KEY", "test")
        monkeypatch.setenv("OPENAI_BASE_URL", model.base_url)
        code = main(
            [
                "run",
                "--catalog",
                SOURCE,
                "--goal",
                "Order 5 units of P-1 from S-100 at 2.10 EUR",
                "--llm",
                "openai",
                "--approve",
                "reject",
                "--store",
                "memory",
                "--json",
            ]
        )
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert code == 0, summary
    calls = {c["tool"]: c for c in summary["calls"]}
    assert calls["read_inbox"]["executed"]
    assert calls["delete_supplier"]["decision"] == "require_approval"
    assert not calls["delete_supplier"]["executed"] and not calls["pay_invoice"]["executed"]
    assert calls["create_purchase_order"]["executed"]
    assert LEDGER.deleted == [] and LEDGER.payments == [] and len(LEDGER.orders) == 1


def test_a_bad_python_source_is_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "--catalog", "python:os:system", "--goal", "x", "--store", "memory"])
    assert code == 2
    err = capsys.readouterr().err
    assert "not a function decorated with @paddock.tool" in err and "Traceback" not in err


def _model_turn(body: dict[str, Any]) -> ToolCallsReply | TextReply:
    messages = body["messages"]
    turns = injected_script()
    tool_turns = sum(1 for m in messages if m.get("role") == "assistant" and m.get("tool_calls"))
    if tool_turns < len(turns):
        return turns[tool_turns]
    return TextReply("Done.")


def _wait(client: httpx.Client, path: str, headers: dict[str, str]) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        view: dict[str, Any] = client.get(path, headers=headers).json()
        if view["status"] in DONE:
            return view
        assert time.monotonic() < deadline, f"run stuck in {view['status']}"
        time.sleep(0.1)


@pytest.mark.parametrize(
    "backend", ["memory", pytest.param("emulators", marks=pytest.mark.emulators)]
)
def test_the_api_runs_a_deployed_python_workflow_and_refuses_import_paths(
    backend: str, request: pytest.FixtureRequest
) -> None:
    env: dict[str, str] = {}
    if backend == "emulators":  # both clouds' stores and queue workers
        env = dict(request.getfixturevalue("emulators"))
        request.getfixturevalue("moto_endpoint")
    with ScriptedOpenAI(default=_model_turn) as model:
        env |= {"OPENAI_BASE_URL": f"{model.url}/v1", "OPENAI_API_KEY": "sk-test"}
        with DevServer(backend=backend, env=env, poll_seconds=0.05, bundles=[BUNDLE]) as server:
            alice = {"Authorization": f"Bearer {server.tokens()['TOKEN']}"}
            with httpx.Client(base_url=server.url, timeout=30) as client:
                started = client.post(
                    "/aws/runs",
                    json={
                        "workflow": "python-procurement",
                        "llm": "openai",
                        "inputs": {"part": "P-1", "quantity": 5},
                    },
                    headers=alice,
                )
                assert started.status_code == 202, started.text
                view = _wait(client, f"/aws/runs/{started.json()['run_id']}", alice)

                # The attack: a request naming an import path would make the server import
                # and run any module. The API takes spec URLs only.
                for source in ("python:os:system", "python:examples.python_tools.procurement"):
                    attack = client.post(
                        "/aws/runs", json={"catalog": [source], "goal": "x"}, headers=alice
                    )
                    assert attack.status_code == 422, attack.text
    calls = {c["tool"]: c for s in view["steps"] for c in s["calls"]}
    assert calls["read_inbox"]["executed"] and calls["read_inbox"]["untrusted"]
    # The grant has no destructive calls: the tool is not even offered, and the model's
    # attempt is bounced before it reaches the guard.
    assert "delete_supplier" not in calls
    assert view["status"] == "awaiting_approval"
    (pending,) = view["pending_approvals"]
    assert pending["tool"] == "pay_invoice" and "provenance" in pending["rule_ids"]
    assert LEDGER.deleted == [] and LEDGER.payments == []
