"""Start, stop and report the local cloud emulators: a moto server and Azurite.

Used by ``scripts/emulators`` (developers, ``scripts/test``) and by ``tests/conftest.py`` when
the tests run without ``scripts/test``. Standard library only, so it runs before anything else
is installed. Both emulators bind 127.0.0.1 on free ports; Azurite keeps its data in a temp dir.

State lives in ``<state dir>/emulators.env`` (shell syntax, also read back by ``stop``)::

    PADDOCK_AWS_ENDPOINT_URL=http://127.0.0.1:PORT
    PADDOCK_AZURE_CONNECTION_STRING=DefaultEndpointsProtocol=http;...
    PADDOCK_EMULATOR_MOTO_PID=...   PADDOCK_EMULATOR_AZURITE_PID=...   (and ports, data dir)
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AZURITE_JS = ROOT / "node_modules" / "azurite" / "dist" / "src" / "azurite.js"
# Azurite's well-known development account key (public, documented by Microsoft).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "eu-central-1",
    "AWS_REGION": "eu-central-1",
}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def connection_string(blob: int, queue: int, table: int) -> str:
    base = f"http://127.0.0.1:{{}}/{AZURITE_ACCOUNT}"
    return (
        f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};"
        f"AccountKey={AZURITE_KEY};BlobEndpoint={base.format(blob)};"
        f"QueueEndpoint={base.format(queue)};TableEndpoint={base.format(table)};"
    )


def read_env(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            key, _, raw = line.partition("=")
            parts = shlex.split(raw)
            values[key.strip()] = parts[0] if parts else ""
    return values


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    try:  # a zombie child of ours counts as gone
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            return False
    except ChildProcessError:
        pass
    try:  # and so does anybody else's zombie
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _log(msg: str) -> None:
    print(f"emulators: {msg}", file=sys.stderr, flush=True)


def ensure_installed() -> None:
    """npm ci for Azurite and pip for the moto server, only when missing."""
    if not AZURITE_JS.exists():
        if shutil.which("npm") is None:
            raise SystemExit("emulators: npm (Node.js 20) is required for Azurite")
        _log("installing azurite (npm ci)")
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    if not _moto_server().exists():
        _log("installing moto[server]")
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "moto[server]"], check=True
        )


def _moto_server() -> Path:
    return Path(sys.executable).parent / "moto_server"


def _spawn(cmd: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            cmd,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=ROOT,
        )


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True
    except (OSError, ValueError):
        return False


def _wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float, name: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"emulators: {name} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except urllib.error.HTTPError:
            return  # it answered: ready
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"emulators: {name} not ready after {timeout:.0f} s")


def start(state_dir: Path, *, timeout: float = 30.0) -> dict[str, str]:
    """Start both emulators unless the state file names live ones; return the env values."""
    env_file = state_dir / "emulators.env"
    current = read_env(env_file)
    if (
        current
        and all(
            alive(int(current.get(k, "0") or 0))
            for k in ("PADDOCK_EMULATOR_MOTO_PID", "PADDOCK_EMULATOR_AZURITE_PID")
        )
        and _answers(current.get("PADDOCK_AWS_ENDPOINT_URL", "") + "/moto-api/")
    ):
        return current
    stop(state_dir, quiet=True)
    ensure_installed()
    state_dir.mkdir(parents=True, exist_ok=True)
    data = Path(tempfile.mkdtemp(prefix="paddock-azurite-"))
    moto_port, blob, queue, table = (free_port() for _ in range(4))
    moto = _spawn(
        [
            sys.executable,
            str(ROOT / "scripts" / "_moto_server.py"),
            "-H",
            "127.0.0.1",
            "-p",
            str(moto_port),
        ],
        state_dir / "moto.log",
    )
    azurite = _spawn(
        [
            "node",
            str(AZURITE_JS),
            "--disableTelemetry",
            "--skipApiVersionCheck",
            "--silent",
            "--location",
            str(data),
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            str(blob),
            "--queueHost",
            "127.0.0.1",
            "--queuePort",
            str(queue),
            "--tableHost",
            "127.0.0.1",
            "--tablePort",
            str(table),
        ],
        state_dir / "azurite.log",
    )
    values = {
        "PADDOCK_AWS_ENDPOINT_URL": f"http://127.0.0.1:{moto_port}",
        "PADDOCK_AZURE_CONNECTION_STRING": connection_string(blob, queue, table),
        "PADDOCK_EMULATOR_MOTO_PID": str(moto.pid),
        "PADDOCK_EMULATOR_AZURITE_PID": str(azurite.pid),
        "PADDOCK_EMULATOR_AZURITE_DIR": str(data),
        **FAKE_AWS,
    }
    env_file.write_text("".join(f"{k}={shlex.quote(v)}\n" for k, v in values.items()))
    try:
        _wait_http(f"http://127.0.0.1:{moto_port}/moto-api/", moto, timeout, "moto server")
        for port in (blob, queue, table):
            _wait_http(f"http://127.0.0.1:{port}/", azurite, timeout, "azurite")
    except SystemExit:
        stop(state_dir, quiet=True)
        raise
    return values


def _terminate(pid: int) -> None:
    if not alive(pid):
        return
    try:
        os.killpg(pid, signal.SIGTERM)  # each emulator leads its own session
    except (ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 5
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if alive(pid):
        os.killpg(pid, signal.SIGKILL)


def stop(state_dir: Path, *, quiet: bool = False) -> None:
    """Stop what the state file names; fine when nothing runs any more."""
    env_file = state_dir / "emulators.env"
    values = read_env(env_file)
    for key in ("PADDOCK_EMULATOR_MOTO_PID", "PADDOCK_EMULATOR_AZURITE_PID"):
        pid = int(values.get(key, "0") or 0)
        if pid > 0:
            _terminate(pid)
    data = values.get("PADDOCK_EMULATOR_AZURITE_DIR")
    if data and Path(data).name.startswith("paddock-azurite-"):
        shutil.rmtree(data, ignore_errors=True)
    env_file.unlink(missing_ok=True)
    if not quiet:
        _log("stopped" if values else "nothing was running")


def status(state_dir: Path) -> int:
    values = read_env(state_dir / "emulators.env")
    if not values:
        print("emulators: not started")
        return 1
    ok = True
    for name, key in (
        ("moto", "PADDOCK_EMULATOR_MOTO_PID"),
        ("azurite", "PADDOCK_EMULATOR_AZURITE_PID"),
    ):
        up = alive(int(values.get(key, "0") or 0))
        ok = ok and up
        print(f"{name}: {'running' if up else 'gone'} (pid {values.get(key)})")
    print(f"PADDOCK_AWS_ENDPOINT_URL={values.get('PADDOCK_AWS_ENDPOINT_URL')}")
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/emulators")
    parser.add_argument("command", choices=("start", "stop", "status"))
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=Path(os.environ.get("PADDOCK_EMULATOR_STATE", ROOT / ".paddock")),
    )
    args = parser.parse_args(argv)
    if args.command == "start":
        values = start(args.state_dir)
        _log(
            f"moto {values['PADDOCK_AWS_ENDPOINT_URL']}, azurite pid "
            f"{values['PADDOCK_EMULATOR_AZURITE_PID']}; env in "
            f"{args.state_dir / 'emulators.env'}"
        )
        return 0
    if args.command == "stop":
        stop(args.state_dir)
        return 0
    return status(args.state_dir)


if __name__ == "__main__":
    sys.exit(main())
