"""scripts/smoke against the dev server (what scripts/dev serves): the outputs name both APIs,
the script starts a run on each, approves it and sees it finish, from the outputs alone."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from paddock.dev.server import DevServer

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def dev() -> Iterator[DevServer]:
    with DevServer(backend="memory", env={}, poll_seconds=0.05) as server:
        yield server


def _outputs(dev: DevServer, tmp_path: Path) -> Path:
    # The stack outputs scripts/smoke reads: the dev server serves both adapters.
    path = tmp_path / "outputs.json"
    path.write_text(
        json.dumps(
            {
                "awsApiUrl": f"{dev.url}/aws",
                "azureApiUrl": f"{dev.url}/azure/",
                "workflows": ["supply-chain"],
            }
        )
    )
    return path


def _smoke(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ROOT / "scripts" / "smoke"), *args],
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, **(env or {})},
        check=False,
    )


def test_smoke_runs_and_approves_on_both_clouds(dev: DevServer, tmp_path: Path) -> None:
    tokens = dev.tokens()
    done = _smoke(
        "--outputs",
        str(_outputs(dev, tmp_path)),
        "--poll",
        "0.1",
        "--timeout",
        "180",
        env={
            "PADDOCK_SMOKE_TOKEN": tokens["TOKEN"],
            "PADDOCK_SMOKE_APPROVER_TOKEN": tokens["APPROVER"],
        },
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.strip().splitlines()
    assert [line.split()[0] for line in lines] == ["aws", "azure"]
    for line in lines:
        status, approvals = line.split()[2:4]
        assert status == "succeeded"
        assert int(approvals.lstrip("(")) >= 1  # the order is above the approval threshold


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_smoke_against_the_dev_server_process(tmp_path: Path) -> None:
    # What scripts/dev runs (minus the emulators): the server process, its env file of tokens.
    port, env_file = _free_port(), tmp_path / "dev.env"
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "paddock.dev.server", "--backend", "memory"),
            *("--port", str(port), "--env-file", str(env_file)),
        ],
        cwd=ROOT,
        env={**os.environ, "PADDOCK_LOCAL_MODE": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not env_file.exists():
            assert server.poll() is None and time.monotonic() < deadline, "dev server down"
            time.sleep(0.1)
        dev_env = dict(line.split("=", 1) for line in env_file.read_text().splitlines())
        url = dev_env["PADDOCK_DEV_URL"]
        outputs = tmp_path / "outputs.json"
        outputs.write_text(json.dumps({"awsApiUrl": f"{url}/aws", "azureApiUrl": f"{url}/azure"}))
        done = _smoke(
            "--outputs",
            str(outputs),
            "--token",
            dev_env["TOKEN"],
            "--approver-token",
            dev_env["APPROVER"],
            "--poll",
            "0.2",
            "--timeout",
            "180",
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr
    assert [line.split()[:1] + line.split()[2:3] for line in done.stdout.splitlines()] == [
        ["aws", "succeeded"],
        ["azure", "succeeded"],
    ]


def test_outputs_from_a_url_and_one_cloud(dev: DevServer, tmp_path: Path) -> None:
    from paddock.smoke import Smoke, api_urls, load_outputs

    body = _outputs(dev, tmp_path).read_bytes()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        outputs = load_outputs(None, f"http://127.0.0.1:{server.server_port}/outputs.json")
    finally:
        server.shutdown()
        server.server_close()
    urls = api_urls(outputs, ["azure"])
    assert urls == {"azure": f"{dev.url}/azure"}
    tokens = dev.tokens()
    smoke = Smoke(
        token=tokens["TOKEN"],
        approver_token=tokens["APPROVER"],
        request={"workflow": "supply-chain"},
        poll=0.1,
        timeout=180,
    )
    result = smoke.run("azure", urls["azure"])
    assert result.ok and result.approvals >= 1


def test_an_unapproved_run_is_a_failure_not_a_hang(dev: DevServer, tmp_path: Path) -> None:
    # The requester cannot approve their own run: nothing is approved, the timeout ends it.
    tokens = dev.tokens()
    done = _smoke(
        "--outputs",
        str(_outputs(dev, tmp_path)),
        "--cloud",
        "aws",
        "--token",
        tokens["TOKEN"],
        "--approver-token",
        tokens["TOKEN"],
        "--poll",
        "0.1",
        "--timeout",
        "5",
    )
    assert done.returncode != 0
    assert "succeeded" not in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "tokens missing"),
        (["--token", "t", "--approver-token", "a"], "give a STACK name or --outputs"),
        # Without the Pulumi CLI on PATH, reading a stack says so.
        (["--token", "t", "--approver-token", "a", "dev"], "pulumi CLI is not installed"),
        (
            ["--token", "t", "--approver-token", "a", "--outputs", "/nonexistent.json"],
            "cannot read outputs",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PADDOCK_SMOKE_")}
    env["PATH"] = str(tmp_path)  # no pulumi
    done = subprocess.run(
        [sys.executable, "-m", "paddock.smoke", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=False,
    )
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_outputs_without_an_api_are_refused(tmp_path: Path) -> None:
    from paddock.smoke import SmokeError, api_urls

    with pytest.raises(SmokeError, match="no API"):
        api_urls({"workflows": []})
    with pytest.raises(SmokeError, match="no API URL for azure"):
        api_urls({"awsApiUrl": "https://x"}, ["azure"])
