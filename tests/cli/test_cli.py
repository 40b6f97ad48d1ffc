"""The command line as a user runs it: a real process, real services, real exit codes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from examples.supply_chain import SupplyChainServices, spec_paths
from examples.supply_chain import data as sc
from paddock.testing.fake_openai import ScriptedOpenAI, TextReply, ToolCall, ToolCallsReply

ROOT = Path(__file__).resolve().parents[2]

RUN_KEYS = {
    "run_id",
    "status",
    "goal",
    "tenant",
    "steps",
    "calls",
    "usage",
    "tool_calls",
    "call_counts",
    "failed_writes",
    "pending_approvals",
    "result",
    "reason",
    "error",
    "planner",
    "duration_seconds",
}
CALL_KEYS = {
    "step",
    "call_id",
    "tool",
    "cloud",
    "side_effect",
    "args",
    "decision",
    "rule_ids",
    "reasons",
    "status",
    "approval_id",
    "executed",
    "status_code",
    "result_valid",
    "drift",
    "worker",
    "error",
}


def paddock(
    *args: str, home: Path, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m paddock ARGS`` as a separate process with its own PADDOCK_HOME."""
    full = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "AZURE_OPENAI_"))}
    full.update({"PADDOCK_HOME": str(home), "NO_COLOR": "1"}, **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "paddock", *args],
        cwd=ROOT,
        env=full,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def last_json(out: str) -> dict[str, Any]:
    lines = [line for line in out.splitlines() if line.strip()]
    assert lines, "no output on stdout"
    parsed: dict[str, Any] = json.loads(lines[-1])
    return parsed


def assert_clean_error(proc: subprocess.CompletedProcess[str], *, code: int = 2) -> str:
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert lines, "an error must say what went wrong"
    return lines[-1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    proc = paddock("demo", "--approve", "auto", "--json", home=tmp_path_factory.mktemp("home"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = last_json(proc.stdout)
    out["_stderr"] = proc.stderr
    out["_stdout_lines"] = len([line for line in proc.stdout.splitlines() if line.strip()])
    return out


def test_demo_succeeds_across_aws_azure_and_external(demo: dict[str, Any]) -> None:
    assert demo["status"] == "succeeded"
    executed = [c for c in demo["calls"] if c["executed"]]
    assert {c["cloud"] for c in executed} == {"aws", "azure", "external"}
    assert demo["planner"] == "offline rule planner"
    assert demo["usage"] == {"prompt_tokens": 0, "completion_tokens": 0, "cost_usd": 0.0}
    order = [c for c in executed if c["tool"] == "create_purchase_order"]
    assert len(order) == 1 and order[0]["status_code"] == 201
    assert order[0]["args"]["body"]["vendor_id"] == sc.CHOSEN_SUPPLIER
    assert sc.CHOSEN_SUPPLIER in demo["result"]


def test_demo_json_matches_the_documented_schema(demo: dict[str, Any]) -> None:
    assert set(demo) >= RUN_KEYS
    assert demo["run_id"].startswith("run_") and len(demo["run_id"]) == 16
    assert demo["steps"] == len({c["step"] for c in demo["calls"]}) + 1  # + the final answer
    assert demo["tool_calls"] == sum(c["executed"] for c in demo["calls"])
    for call in demo["calls"]:
        assert set(call) >= CALL_KEYS, CALL_KEYS - set(call)
        assert call["cloud"] in ("aws", "azure", "external")
        assert call["decision"] in ("allow", "deny", "require_approval")
        assert call["executed"] is (call["status_code"] is not None)
    assert demo["_stdout_lines"] == 1  # progress goes to stderr: stdout is the JSON alone


def test_demo_blocks_the_injected_calls_with_the_rule_that_fired(demo: dict[str, Any]) -> None:
    denied = {c["tool"]: c for c in demo["calls"] if c["decision"] == "deny"}
    assert denied["update_vendor_bank"]["rule_ids"] == ["bank_details_change"]
    assert denied["update_vendor_bank"]["args"]["body"]["iban"] == sc.INJECTED_IBAN
    assert denied["send_supplier_message"]["rule_ids"] == ["message_cc"]
    assert not any(c["executed"] for c in denied.values())
    assert "SIMULATION" in demo["_stderr"]  # the rule planner says what it is doing
    assert "guard: deny (bank_details_change)" in demo["_stderr"]


def test_demo_pauses_for_the_order_and_auto_approves_it(demo: dict[str, Any]) -> None:
    order = next(c for c in demo["calls"] if c["tool"] == "create_purchase_order")
    assert order["decision"] == "require_approval"
    assert order["rule_ids"] == ["po_over_threshold"]
    assert order["approval_id"] and order["status"] == "done"
    assert f"paused for approval {order['approval_id']}" in demo["_stderr"]
    assert "approved by auto-approver" in demo["_stderr"]


def test_demo_with_approvals_rejected_orders_nothing(tmp_path: Path) -> None:
    proc = paddock("demo", "--approve", "reject", "--json", home=tmp_path)
    out = last_json(proc.stdout)
    order = next(c for c in out["calls"] if c["tool"] == "create_purchase_order")
    assert order["status"] == "rejected" and not order["executed"]
    assert out["status"] == "succeeded" and "nothing was ordered" in out["result"]
    assert proc.returncode == 0


@pytest.fixture()
def services() -> Iterator[SupplyChainServices]:
    with SupplyChainServices() as running:
        yield running


def _base_urls(services: SupplyChainServices) -> list[str]:
    pairs: list[str] = []
    for title, url in services.base_urls.items():
        pairs += ["--base-url", f"{title}={url}"]
    return pairs


def test_run_with_openai_drives_the_run_through_an_openai_compatible_server(
    tmp_path: Path, services: SupplyChainServices
) -> None:
    script = [
        ToolCallsReply(
            [ToolCall("get_stock", {"plant": "DE01", "part": "P-100"})],
            content="Check stock first.",
            usage=(900, 30),
        ),
        ToolCallsReply([ToolCall("get_risk_score", {"supplier_id": "V-2001"})], usage=(1000, 20)),
        TextReply("Stock of P-100 at DE01 is 0; V-2001 is low risk.", usage=(1100, 25)),
    ]
    specs = [str(p) for p in spec_paths()]
    with ScriptedOpenAI(script, api_key="sk-test") as llm:
        proc = paddock(
            "run",
            *[a for s in specs for a in ("--catalog", s)],
            *_base_urls(services),
            "--goal",
            "How many P-100 does DE01 hold, and is V-2001 safe?",
            "--llm",
            "openai",
            "--approve",
            "reject",
            "--json",
            home=tmp_path,
            env={
                "OPENAI_BASE_URL": llm.base_url,
                "OPENAI_API_KEY": "sk-test",
                "OPENAI_MODEL": "gpt-4o-mini",
            },
        )
        bodies = llm.bodies
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = last_json(proc.stdout)
    assert out["status"] == "succeeded"
    assert out["result"].startswith("Stock of P-100")
    assert [c["tool"] for c in out["calls"]] == ["get_stock", "get_risk_score"]
    assert {c["cloud"] for c in out["calls"]} == {"azure", "external"}
    assert out["usage"]["prompt_tokens"] == 3000 and out["usage"]["completion_tokens"] == 75
    assert out["usage"]["cost_usd"] > 0
    assert out["planner"].startswith("openai:gpt-4o-mini")
    assert len(services.erp.requests_for("GET", "/plants/DE01/parts/P-100/stock")) == 1
    assert len(bodies) == 3
    assert {t["function"]["name"] for t in bodies[0]["tools"]} >= {"get_stock", "delete_vendor"}
    # the model saw the stock observation before answering
    assert any('"unrestricted": 0' in str(m.get("content")) for m in bodies[1]["messages"])


def test_unreachable_model_is_one_line_and_exit_1(
    tmp_path: Path, services: SupplyChainServices
) -> None:
    proc = paddock(
        "run",
        "--catalog",
        str(spec_paths()[0]),
        *_base_urls(services),
        "--goal",
        "anything",
        "--llm",
        "openai",
        "--json",
        home=tmp_path,
        env={"OPENAI_BASE_URL": f"http://127.0.0.1:{free_port()}/v1", "OPENAI_API_KEY": "sk-test"},
    )
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    out = last_json(proc.stdout)
    assert out["status"] == "failed" and "planner" in out["error"]


def test_missing_model_configuration_is_a_clean_error(tmp_path: Path) -> None:
    line = assert_clean_error(
        paddock(
            "run",
            "--catalog",
            str(spec_paths()[0]),
            "--goal",
            "x",
            "--llm",
            "openai",
            home=tmp_path,
        )
    )
    assert "OPENAI_API_KEY" in line


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["run", "--catalog", "no/such/spec.yaml", "--goal", "x"], "no/such/spec.yaml"),
        (["run", "--catalog", "http://127.0.0.1:9/spec.json", "--goal", "x"], "127.0.0.1:9"),
        (["run", "--goal", "x"], "--catalog"),
        (["run", "--catalog", "x.yaml", "--goal", "x", "--max-steps", "0"], "--max-steps"),
        (["run", "--catalog", "x.yaml", "--goal", "x", "--llm", "claude"], "--llm"),
        (["demo", "no-such-scenario"], "no-such-scenario"),
        (["approve", "run_doesnotexist", "apr_x"], "run_doesnotexist"),
        (["catalog", "import", "README.md"], "README.md"),
    ],
)
def test_bad_input_is_one_clear_line(tmp_path: Path, args: list[str], needle: str) -> None:
    proc = paddock(*args, home=tmp_path, timeout=60)
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr + proc.stdout
    assert needle in proc.stderr


def test_catalog_import_lists_one_entry_per_operation(tmp_path: Path) -> None:
    erp = next(p for p in spec_paths() if "erp" in p.name)
    proc = paddock("catalog", "import", str(erp), "--json", home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    listing = last_json(proc.stdout)
    tools = listing["tools"] if isinstance(listing, dict) else listing
    names = sorted(t["name"] for t in tools)
    assert names == sorted(
        [
            "get_stock",
            "list_vendors",
            "delete_vendor",
            "update_vendor_bank",
            "list_purchase_orders",
            "create_purchase_order",
        ]
    )
    delete = next(t for t in tools if t["name"] == "delete_vendor")
    assert delete["side_effect"] == "destructive" and delete["location"] == "azure"


def test_python_dash_m_core_is_the_paddock_command(tmp_path: Path) -> None:
    proc = paddock("--help", home=tmp_path)
    assert proc.returncode == 0
    assert "demo" in proc.stdout and "run" in proc.stdout


def test_approval_across_processes_bound_single_use_and_not_by_the_requester(
    tmp_path: Path, services: SupplyChainServices
) -> None:
    erp = next(p for p in spec_paths() if "erp" in p.name)
    # Under the default policy (no workflow) a destructive call waits for a human, and the
    # default four-eyes setting says that human is not the one who asked for the run.
    script = [
        ToolCallsReply(
            [ToolCall("delete_vendor", {"vendor_id": "V-2001"})],
            content="V-2001 is a duplicate.\nconfidence: 0.9",
        ),
        TextReply("Vendor deleted."),
    ]
    as_alice = {"USER": "alice", "LOGNAME": "alice"}
    with ScriptedOpenAI(script) as llm:
        model = {"OPENAI_BASE_URL": llm.base_url, "OPENAI_API_KEY": "sk-test"}
        started = paddock(
            "run",
            "--catalog",
            str(erp),
            *_base_urls(services),
            "--goal",
            "Remove the duplicate vendor V-2001",
            "--llm",
            "openai",
            "--approve",
            "defer",
            "--json",
            home=tmp_path,
            env={**model, **as_alice},
        )
        assert started.returncode == 3, started.stderr[-2000:]
        paused = last_json(started.stdout)
        assert paused["status"] == "awaiting_approval"
        [approval] = paused["pending_approvals"]
        run_id, approval_id = paused["run_id"], approval["id"]
        assert services.erp.deleted_vendors == []

        listed = paddock("approvals", "list", home=tmp_path)
        assert approval_id in listed.stdout and "delete_vendor" in listed.stdout
        assert "needs a second person" in listed.stdout and "not cli:alice" in listed.stdout

        own = paddock("approve", run_id, approval_id, home=tmp_path, env={**model, **as_alice})
        assert "may not approve its own" in assert_clean_error(own)
        assert services.erp.deleted_vendors == []

        bob = paddock(
            "approve",
            run_id,
            approval_id,
            "--json",
            home=tmp_path,
            env={**model, "USER": "bob", "LOGNAME": "bob"},
        )
        assert bob.returncode == 0, bob.stderr[-2000:]
        assert last_json(bob.stdout)["status"] == "succeeded"
        assert services.erp.deleted_vendors == ["V-2001"]

        replay = paddock(
            "approve",
            run_id,
            approval_id,
            home=tmp_path,
            env={**model, "USER": "bob", "LOGNAME": "bob"},
        )
        assert "single-use" in assert_clean_error(replay)
        forged = paddock(
            "approve", run_id, "apr_forged", home=tmp_path, env={"USER": "bob", "LOGNAME": "bob"}
        )
        assert "never issued" in assert_clean_error(forged)
    assert services.erp.deleted_vendors == ["V-2001"]


def test_a_killed_process_is_resumed_from_its_last_checkpoint(
    tmp_path: Path, services: SupplyChainServices
) -> None:
    erp = next(p for p in spec_paths() if "erp" in p.name)
    asked_again = threading.Event()
    release = threading.Event()

    def hang(body: dict[str, Any]) -> TextReply:  # the dying process waits here
        asked_again.set()
        release.wait(30)
        return TextReply("never read")

    script = [
        ToolCallsReply([ToolCall("get_stock", {"plant": "DE01", "part": "P-100"})]),
        hang,
        TextReply("DE01 holds 0 of P-100."),
    ]
    with ScriptedOpenAI(script) as llm:
        model = {"OPENAI_BASE_URL": llm.base_url, "OPENAI_API_KEY": "sk-test"}
        full = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
        full.update(PADDOCK_HOME=str(tmp_path), **model)
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "paddock",
                "run",
                "--catalog",
                str(erp),
                *_base_urls(services),
                "--goal",
                "How many P-100 are at DE01?",
                "--llm",
                "openai",
                "--json",
            ],
            cwd=ROOT,
            env=full,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert asked_again.wait(60), "the run never got to its second step"
        finally:
            proc.kill()
            proc.communicate(timeout=30)
            release.set()
        assert len(services.erp.requests_for("GET", "/plants/DE01/parts/P-100/stock")) == 1
        listed = last_json(paddock("runs", "list", "--json", home=tmp_path).stdout)
        [stalled] = listed if isinstance(listed, list) else [listed]
        assert stalled["status"] == "running"
        resumed = paddock("runs", "resume", stalled["id"], "--json", home=tmp_path, env=model)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    out = last_json(resumed.stdout)
    assert out["status"] == "succeeded" and out["result"] == "DE01 holds 0 of P-100."
    assert [c["tool"] for c in out["calls"]] == ["get_stock"]
    # the step that ran before the crash was not repeated
    assert len(services.erp.requests_for("GET", "/plants/DE01/parts/P-100/stock")) == 1


def test_a_state_file_from_a_newer_paddock_is_one_line_naming_it(tmp_path: Path) -> None:
    import sqlite3

    db = sqlite3.connect(tmp_path / "state.db")
    db.execute("PRAGMA user_version = 99")
    db.commit()
    db.close()
    line = assert_clean_error(paddock("runs", "list", home=tmp_path, timeout=60))
    assert str(tmp_path / "state.db") in line and "newer Paddock" in line


def test_a_state_file_that_is_not_a_database_is_one_line_naming_it(tmp_path: Path) -> None:
    (tmp_path / "state.db").write_text("not a database\n" * 40)
    line = assert_clean_error(paddock("kill", "--all", "--reason", "x", home=tmp_path, timeout=60))
    assert str(tmp_path / "state.db") in line and "not a Paddock state database" in line
