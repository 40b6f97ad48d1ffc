"""The embedded default end to end: ``paddock demo`` writes a trace file and says how to view
it, ``paddock trace`` renders the scenario's tree, ``paddock costs`` sums it up."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.telemetry.exporters import read_spans
from core.telemetry.redact import uninstall_log_redaction
from paddock.cli.main import main
from tests.telemetry.support import named, parent_of


@pytest.fixture()
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("PADDOCK_HOME", str(tmp_path))
    monkeypatch.delenv("PADDOCK_TRACE_FILE", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    yield tmp_path
    uninstall_log_redaction()


@pytest.fixture()
def demo(home: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert main(["demo", "--approve", "auto", "--json", "--store", "sqlite"]) == 0
    out = capsys.readouterr()
    summary: dict[str, Any] = json.loads(out.out.strip().splitlines()[-1])
    summary["_stderr"] = out.err
    return summary


def test_the_demo_writes_a_trace_and_says_how_to_view_it(demo: dict[str, Any], home: Path) -> None:
    run_id = demo["run_id"]
    trace_file = home / "traces.jsonl"
    assert f"paddock trace {run_id}" in demo["_stderr"]
    assert str(trace_file) in demo["_stderr"]
    spans = read_spans(trace_file)
    assert len({s["trace_id"] for s in spans}) == 1
    [root] = named(spans, "run")
    assert root["attributes"]["paddock.run.id"] == run_id
    [approval] = named(spans, "approval")  # the human's decision is part of the trace
    assert approval["parent_id"] == root["span_id"]
    assert (
        approval["attributes"]["paddock.tool.name"],
        approval["attributes"]["paddock.approval.status"],
        approval["attributes"]["paddock.approval.by"],
    ) == ("create_purchase_order", "approved", "auto-approver")

    guards = {
        (
            g["attributes"]["paddock.tool.name"],
            g["attributes"]["paddock.decision"],
            tuple(g["attributes"]["paddock.rule_ids"]),
        )
        for g in named(spans, "guard")
    }
    assert ("update_vendor_bank", "deny", ("bank_details_change",)) in guards
    assert ("send_supplier_message", "deny", ("message_cc",)) in guards
    assert any(t == "create_purchase_order" and d == "require_approval" for t, d, _ in guards)

    tools = [s for s in spans if s["attributes"].get("paddock.tool.location")]
    assert len(tools) == demo["tool_calls"]
    assert {t["attributes"]["paddock.tool.location"] for t in tools} == {"aws", "azure", "external"}
    for tool in tools:  # every API call sits in a step whose plan holds the reasoning
        step = parent_of(tool, spans)
        assert step is not None and step["name"] == "step"
        index = step["attributes"]["paddock.step.index"]
        plan = next(
            p
            for p in named(spans, "plan")
            if parent_of(p, spans)["attributes"]["paddock.step.index"] == index
        )  # type: ignore[index]
        assert any(e["name"] == "gen_ai.reasoning" for e in plan["events"])
    simulated = [p for p in named(spans, "plan") if "SIMULATION" in json.dumps(p["events"])]
    assert len(simulated) == 2  # the two injected steps are labelled as such
    # The demo's services verify real (local) credentials; none of them is in the trace.
    text = trace_file.read_text(encoding="utf-8")
    assert "Bearer " not in text and "Signature=" not in text and "AKIA" not in text


def test_trace_renders_the_tree_and_costs_sum_it_up(
    demo: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    run_id = demo["run_id"]
    assert main(["trace", run_id]) == 0
    tree = capsys.readouterr().out.splitlines()
    assert tree[0].startswith("trace ") and run_id in tree[0]
    assert tree[1].startswith("run ") and "tenant default" in tree[1]
    assert any("update_vendor_bank -> deny (bank_details_change)" in line for line in tree)
    held = tree.index(next(line for line in tree if "update_vendor_bank -> deny" in line))
    assert tree[held + 1].strip().startswith("why: "), tree[held + 1]  # the guard's reasons
    assert any(
        "POST create_purchase_order" in line and "HTTP 201" in line and "azure/write" in line
        for line in tree
    )
    assert any(line.strip().startswith("thinking:") for line in tree)
    assert tree[-1].startswith("total:") and "tokens 0+0" in tree[-1]

    assert main(["trace", run_id, "--no-reasoning"]) == 0
    assert "thinking:" not in capsys.readouterr().out
    assert main(["trace", run_id, "--json"]) == 0
    spans = json.loads(capsys.readouterr().out)
    assert {s["name"] for s in spans} >= {"run", "advance", "step", "plan", "guard"}

    assert main(["costs", "--json"]) == 0
    [tenant] = json.loads(capsys.readouterr().out)
    assert (tenant["tenant"], tenant["runs"], tenant["cost_usd"]) == ("default", 1, 0.0)
    assert main(["costs", run_id, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert len(report["steps"]) == demo["steps"]
    assert report["total"] == {**demo["cost"]["total"]}
    assert demo["cost"]["total"]["cost_usd"] == demo["usage"]["cost_usd"]


def test_trace_errors_are_one_line(
    demo: dict[str, Any], home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["trace", "run_nosuchrun"]) == 2
    assert capsys.readouterr().err.strip() == "paddock: error: no run run_nosuchrun"
    empty = home / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    assert main(["trace", demo["run_id"], "--file", str(empty)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("paddock: error: no spans of trace") and "\n" not in err


def test_approving_from_another_command_continues_the_same_trace(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOGNAME", "requester")
    assert main(["demo", "--approve", "defer", "--json"]) == 3
    paused = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    [pending] = paused["pending_approvals"]
    monkeypatch.setenv("LOGNAME", "approver")  # another person decides (separation of duties)
    assert main(["approve", paused["run_id"], pending["id"], "--json"]) == 0
    capsys.readouterr()
    spans = read_spans(home / "traces.jsonl")
    assert len({s["trace_id"] for s in spans}) == 1
    [root] = named(spans, "run")
    [approval] = named(spans, "approval")
    assert approval["parent_id"] == root["span_id"]
    assert approval["attributes"]["paddock.approval.by"] == "cli:approver"
    advances = named(spans, "advance")
    assert [a["attributes"]["paddock.run.status"] for a in advances] == [
        "awaiting_approval",
        "succeeded",
    ]
    assert {a["parent_id"] for a in advances} == {root["span_id"]}
