"""scripts/emulators: start on free ports, report, stop (also when already gone)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import urllib.request
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.emulators
ROOT = Path(__file__).resolve().parents[2]


def _helper() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "_emulators_under_test", ROOT / "scripts" / "_emulators.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_start_status_stop_cycle(tmp_path: Path) -> None:
    helper = _helper()
    values = helper.start(tmp_path)
    try:
        env_file = tmp_path / "emulators.env"
        assert (
            helper.read_env(env_file)["PADDOCK_AWS_ENDPOINT_URL"]
            == values["PADDOCK_AWS_ENDPOINT_URL"]
        )
        assert "TableEndpoint=http://127.0.0.1:" in values["PADDOCK_AZURE_CONNECTION_STRING"]
        with urllib.request.urlopen(
            values["PADDOCK_AWS_ENDPOINT_URL"] + "/moto-api/", timeout=5
        ) as resp:
            assert resp.status == 200
        assert helper.start(tmp_path) == helper.read_env(env_file)  # reused, not restarted
        pids = [
            int(values[k]) for k in ("PADDOCK_EMULATOR_MOTO_PID", "PADDOCK_EMULATOR_AZURITE_PID")
        ]
        assert all(helper.alive(pid) for pid in pids)
        assert helper.status(tmp_path) == 0
    finally:
        helper.stop(tmp_path, quiet=True)
    assert not any(helper.alive(pid) for pid in pids)
    assert not (tmp_path / "emulators.env").exists()
    assert not Path(values["PADDOCK_EMULATOR_AZURITE_DIR"]).exists()
    helper.stop(tmp_path, quiet=True)  # nothing left to stop: fine


def test_wrapper_reports_not_started(tmp_path: Path) -> None:
    env = {**os.environ, "PADDOCK_EMULATOR_STATE": str(tmp_path)}
    status = subprocess.run(
        [str(ROOT / "scripts" / "emulators"), "status"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert status.returncode == 1 and "not started" in status.stdout
    stop = subprocess.run(
        [str(ROOT / "scripts" / "emulators"), "stop"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert stop.returncode == 0 and "nothing was running" in stop.stderr
