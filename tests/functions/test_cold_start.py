"""The handler modules import cheaply: no pydantic, no clients, no LLM SDK at cold start."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from core.api.paths import OPERATIONS
from core.api.routes import ROUTES

ROOT = Path(__file__).resolve().parents[2]
HEAVY = (
    "pydantic",
    "boto3",
    "botocore.client",
    "openai",
    "jwt",
    "cryptography",
    "azure.storage",
    "azure.data",
    "core.api.models",
    "core.orchestrator",
)


@pytest.mark.parametrize(
    "module", ["functions.aws.http_handler", "functions.aws.worker_handler", "function_app"]
)
def test_handler_import_defers_everything_heavy(module: str) -> None:
    code = (
        f"import importlib, json, sys; importlib.import_module({module!r}); "
        "print(json.dumps(sorted(sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT / "functions" / "azure" if module == "function_app" else ROOT,
        env={"PYTHONPATH": str(ROOT)},
    )
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert [m for m in loaded if m.startswith(HEAVY)] == []
    assert "core.entry" in loaded


def test_the_adapters_register_exactly_the_route_table() -> None:
    assert [(r.method, r.path, r.operation_id) for r in ROUTES] == list(OPERATIONS)
