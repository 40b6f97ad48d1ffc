"""``scripts/dev`` prints its banner and logs, never Lambda's raw EMF metric lines; and the
switch it uses is put back when the server stops."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from paddock.dev.quiet import EMF_SWITCH
from paddock.dev.server import DevServer
from tests.cli.test_cli import free_port

ROOT = Path(__file__).resolve().parents[2]


def test_the_dev_server_prints_no_emf_lines(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != EMF_SWITCH}
    args = ["--backend", "memory", "--port", str(port), "--env-file", str(tmp_path / "dev.env")]
    proc = subprocess.Popen(
        [sys.executable, "-m", "paddock.dev.server", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "dev.env").exists():
            assert proc.poll() is None and time.monotonic() < deadline, "dev server did not start"
            time.sleep(0.1)
        tokens = dict(
            line.split("=", 1) for line in (tmp_path / "dev.env").read_text().splitlines()
        )
        alice = {"Authorization": f"Bearer {tokens['TOKEN']}"}
        url = f"http://127.0.0.1:{port}"
        started = httpx.post(f"{url}/aws/runs", json={"scenario": "supply-chain"}, headers=alice)
        assert started.status_code == 202, started.text
        run = f"{url}/azure/runs/{started.json()['run_id']}"
        while httpx.get(run, headers=alice).json()["status"] in ("pending", "running"):
            assert time.monotonic() < deadline
            time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert "Ctrl-C stops the server." in out  # the banner is there
    assert '"_aws"' not in out + err and "CloudWatchMetrics" not in out + err


def test_the_switch_is_restored_and_an_operators_choice_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(EMF_SWITCH, raising=False)
    with DevServer(backend="memory", env={}, poll_seconds=0.05):
        assert os.environ[EMF_SWITCH] == "true"
    assert EMF_SWITCH not in os.environ
    monkeypatch.setenv(EMF_SWITCH, "false")
    with DevServer(backend="memory", env={}, poll_seconds=0.05):
        assert os.environ[EMF_SWITCH] == "false"
