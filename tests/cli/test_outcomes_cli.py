"""How the command line reports an outcome, and its papercuts: a run that needs review has
its own exit code and lists the failed calls; ``--version``; ``runs --help``; ``mcp serve``
without its extra; a closed pipe."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.domain import CallRecord, CallStatus, Run, RunStatus, Step, StepStatus
from core.state.sqlite import SqliteStore
from examples.supply_chain import SupplyChainServices, spec_paths
from paddock.cli.common import EXIT_CODES
from paddock.testing.fake_openai import ScriptedOpenAI, TextReply, ToolCall, ToolCallsReply
from tests.cli.test_cli import ROOT, assert_clean_error, free_port, last_json, paddock

ERP = "ERP Materials Management API"
ORDER = {
    "body": {
        "part": "P-100",
        "plant": "DE01",
        "quantity": 10,
        "vendor_id": "V-2001",
        "unit_price": 12.5,
        "currency": "EUR",
        "quote_id": "Q-000001",
    }
}


@pytest.fixture()
def services() -> Iterator[SupplyChainServices]:
    with SupplyChainServices() as running:
        yield running


def order_with_the_erp_down(
    home: Path, services: SupplyChainServices, *extra: str
) -> subprocess.CompletedProcess[str]:
    """The model orders, the ERP refuses the connection, the model claims it worked."""
    script = [
        ToolCallsReply([ToolCall("create_purchase_order", ORDER)], content="Order it."),
        TextReply("Purchase order created."),
    ]
    urls = {**services.base_urls, ERP: f"http://127.0.0.1:{free_port()}"}  # nothing listens
    with ScriptedOpenAI(script, api_key="sk-test") as llm:
        return paddock(
            "run",
            *[a for s in spec_paths() for a in ("--catalog", str(s))],
            *[a for title, url in urls.items() for a in ("--base-url", f"{title}={url}")],
            "--goal",
            "Order 10 of P-100 for DE01 from V-2001 at 12.50 EUR a piece (quote Q-000001).",
            "--llm",
            "openai",
            "--approve",
            "auto",
            *extra,
            home=home,
            env={
                "OPENAI_BASE_URL": llm.base_url,
                "OPENAI_API_KEY": "sk-test",
                "OPENAI_MODEL": "gpt-4o-mini",
            },
        )


def test_a_purchase_order_refused_by_the_network_needs_review_with_exit_4(
    tmp_path: Path, services: SupplyChainServices
) -> None:
    proc = order_with_the_erp_down(tmp_path, services, "--json")
    assert proc.returncode == 4 == EXIT_CODES[RunStatus.NEEDS_REVIEW], proc.stderr[-3000:]
    out = last_json(proc.stdout)
    assert out["status"] == "needs_review" and out["result"] == "Purchase order created."
    [failed] = out["failed_writes"]
    assert (failed["step"], failed["tool"], failed["side_effect"]) == (
        1,
        "create_purchase_order",
        "write",
    )
    assert "refused" in failed["error"].lower() or "connect" in failed["error"].lower()
    counts = out["call_counts"]
    assert (counts["executed"], counts["failed"], counts["denied"]) == (0, 1, 0)
    assert out["calls"][0]["step"] == 1 and out["steps"] == 2
    assert "needs review" in out["reason"]


def test_the_text_summary_lists_the_failed_call_and_counts_calls_by_outcome(
    tmp_path: Path, services: SupplyChainServices
) -> None:
    proc = order_with_the_erp_down(tmp_path, services)
    assert proc.returncode == 4, proc.stderr[-3000:]
    assert "NEEDS_REVIEW" in proc.stdout
    assert "failed: step 1 create_purchase_order(" in proc.stdout
    assert "calls:    0 executed    1 failed    0 denied" in proc.stdout
    assert "tool calls executed" not in proc.stdout
    assert "\nstep 1" in proc.stdout and "\nstep 0" not in proc.stdout


def test_version(tmp_path: Path) -> None:
    proc = paddock("--version", home=tmp_path)
    assert proc.returncode == 0 and proc.stdout.startswith("paddock "), proc.stderr
    assert proc.stdout.split()[1][0].isdigit()


def test_runs_help_lists_every_subcommand(tmp_path: Path) -> None:
    proc = paddock("runs", "--help", home=tmp_path)
    assert proc.returncode == 0
    for sub in ("list", "resume", "show"):
        assert f"\n    {sub} " in proc.stdout, proc.stdout


def test_mcp_serve_without_the_mcp_extra_is_one_line_and_exit_2(tmp_path: Path) -> None:
    # ``sys.modules[name] = None`` makes ``import name`` fail as if it were not installed.
    code = (
        "import sys; sys.modules['mcp'] = None; sys.modules['mcp.server'] = None\n"
        "from paddock.cli import main\n"
        "raise SystemExit(main(['mcp', 'serve', '--catalog', sys.argv[1]]))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(spec_paths()[0])],
        cwd=ROOT,
        env={**os.environ, "PADDOCK_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    line = assert_clean_error(proc)
    assert "mcp extra" in line and "pip install 'paddock[mcp]'" in line
    assert len(proc.stderr.strip().splitlines()) == 1


def test_runs_show_into_a_closed_pipe_is_quiet(tmp_path: Path) -> None:
    calls = [
        CallRecord(
            call_id=f"c{i}", tool="get_stock", status=CallStatus.DONE, args={"n": "x" * 2000}
        )
        for i in range(50)
    ]
    steps = [Step(index=0, status=StepStatus.DONE, calls=calls)]
    SqliteStore(tmp_path / "state.db").create_run(
        Run(id="run_pipe", goal="g", status=RunStatus.SUCCEEDED, steps=steps, step_count=1)
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "paddock", "runs", "show", "run_pipe"],
        cwd=ROOT,
        env={**os.environ, "PADDOCK_HOME": str(tmp_path)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()  # like ``| head -1``: read a little, then go away
    proc.stdout.close()
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141, stderr
    assert stderr == ""
