"""One step-numbering convention: the demo's purchase order has the same 1-based step number
in the live output, the JSON summary, ``costs``, ``trace``, ``identity explain``, the API view
and the approvals listing."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.api.views import run_view
from core.state.sqlite import SqliteStore
from core.telemetry.exporters import read_spans
from core.telemetry.redact import uninstall_log_redaction
from paddock.cli.main import main
from tests.telemetry.support import named

PO = "create_purchase_order"


@pytest.fixture()
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("PADDOCK_HOME", str(tmp_path))
    monkeypatch.delenv("PADDOCK_TRACE_FILE", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    yield tmp_path
    uninstall_log_redaction()


def test_the_purchase_order_has_one_step_number_everywhere(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--approve", "auto", "--json", "--store", "sqlite"]) == 0
    out = capsys.readouterr()
    summary = json.loads(out.out.strip().splitlines()[-1])
    run_id = summary["run_id"]
    [order] = [c for c in summary["calls"] if c["tool"] == PO]
    number = order["step"]
    assert number >= 2  # 1-based: the order is never the first step
    # the live output announces "step N" before the call
    live = out.err[: out.err.index(f"-> {PO}(")]
    assert re.findall(r"^step (\d+)", live, flags=re.M)[-1] == str(number)

    run = SqliteStore(home / "state.db").get_run(run_id)
    view = run_view(run)
    assert [s.step for s in view.steps if any(c.tool == PO for c in s.calls)] == [number]
    assert [a.step for a in view.approvals if a.tool == PO] == [number]
    model_step = [s for s in summary["cost"]["steps"] if s["step"] == number]
    assert len(model_step) == 1

    assert main(["identity", "explain", run_id, "--json"]) == 0
    explained = json.loads(capsys.readouterr().out)
    assert [s["step"] for s in explained["steps"] if any(c["tool"] == PO for c in s["calls"])] == [
        number
    ]
    assert main(["identity", "explain", run_id]) == 0
    text = capsys.readouterr().out
    assert text[: text.index(f"  {PO}  ")].rstrip().splitlines()[-1] == f"step {number}"

    assert main(["costs", run_id]) == 0
    assert f"step {number:>3}" in capsys.readouterr().out

    spans = read_spans(home / "traces.jsonl")
    [approval] = named(spans, "approval")
    assert approval["attributes"]["paddock.step.number"] == number
    assert main(["trace", run_id]) == 0
    assert f"#{number}" in capsys.readouterr().out
