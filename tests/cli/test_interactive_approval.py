"""``--approve ask`` through a real pseudo-terminal: a person at the terminal approves the agent's
proposals, except a call the workflow keeps for a second person, which the CLI names plainly
along with the command that person runs."""

from __future__ import annotations

import os
import pty
import select
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from examples.supply_chain import SupplyChainServices, spec_paths
from paddock.testing.fake_openai import ScriptedOpenAI, TextReply, ToolCall, ToolCallsReply

ROOT = Path(__file__).resolve().parents[2]
PROMPT = b"[y/N]"


def at_terminal(
    argv: list[str], *, home: Path, env: dict[str, str], answer: bytes, timeout: float = 180
) -> tuple[int, str, int]:
    """Run ``argv`` on a pty, answer every ``[y/N]`` prompt with ``answer``; returns the exit
    code, everything the terminal showed and how many prompts there were."""
    full = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "AZURE_OPENAI_"))}
    full.update({"PADDOCK_HOME": str(home), "NO_COLOR": "1", **env})
    pid, fd = pty.fork()
    if pid == 0:  # the child: the CLI with the pty as its terminal
        os.chdir(ROOT)
        os.execvpe(argv[0], argv, full)
    shown, prompts, deadline = b"", 0, time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            shown += chunk
            if shown.count(PROMPT) > prompts:
                prompts = shown.count(PROMPT)
                os.write(fd, answer + b"\n")
        else:
            os.kill(pid, signal.SIGKILL)
            pytest.fail(f"no end within {timeout} s:\n{shown.decode(errors='replace')[-2000:]}")
    finally:
        os.close(fd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), shown.decode(errors="replace"), prompts


def test_demo_ask_answered_y_approves_the_purchase_order_and_succeeds(tmp_path: Path) -> None:
    code, shown, prompts = at_terminal(
        [str(ROOT / "scripts" / "demo"), "--approve", "ask"],
        home=tmp_path,
        env={"USER": "alice", "LOGNAME": "alice"},
        answer=b"y",
    )
    assert code == 0, shown[-3000:]
    assert prompts >= 1 and "Approve create_purchase_order" in shown
    assert "approved by cli:alice" in shown and ": SUCCEEDED" in shown
    assert "purchase order 4500000001" in shown
    assert "may not approve" not in shown and "Traceback" not in shown


@pytest.fixture(scope="module")
def services() -> Iterator[SupplyChainServices]:
    with SupplyChainServices() as running:
        yield running


def test_ask_names_the_second_person_rule_and_the_command_instead_of_asking(
    tmp_path: Path, services: SupplyChainServices
) -> None:
    erp = next(p for p in spec_paths() if "erp" in p.name)
    script = [
        ToolCallsReply(
            [ToolCall("delete_vendor", {"vendor_id": "V-2001"})],
            content="V-2001 is a duplicate.\nconfidence: 0.9",
        ),
        TextReply("Vendor deleted."),
    ]
    base_urls = [a for t, u in services.base_urls.items() for a in ("--base-url", f"{t}={u}")]
    goal = ["--goal", "Remove the duplicate vendor V-2001"]
    argv = [sys.executable, "-m", "paddock", "run", "--catalog", str(erp), *base_urls, *goal]
    with ScriptedOpenAI(script) as llm:
        code, shown, prompts = at_terminal(
            [*argv, "--llm", "openai", "--approve", "ask"],
            home=tmp_path,
            env={
                "USER": "alice",
                "LOGNAME": "alice",
                "OPENAI_BASE_URL": llm.base_url,
                "OPENAI_API_KEY": "sk-test",
            },
            answer=b"y",
        )
    assert code == 3, shown[-3000:]  # waiting for someone else
    assert prompts == 0  # never asked the requester
    assert "delete_vendor" in shown and "needs a second person" in shown
    assert "destructive calls" in shown
    assert "paddock approve run_" in shown
    assert services.erp.deleted_vendors == []
