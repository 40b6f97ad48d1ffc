"""Fixtures for the Pulumi unit tests: a stand-in Lambda package and cached synth runs."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def lambda_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A zip where the program expects dist/aws-lambda.zip (its contents are not read)."""
    path = tmp_path_factory.mktemp("dist") / "aws-lambda.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("functions/aws/http_handler.py", "def handler(e, c):\n    return {}\n")
    return path


@pytest.fixture(scope="session")
def stack(lambda_package: Path) -> Callable[..., Any]:
    """``stack(targets="both", **config)``: the program run under mocks, cached per config."""
    from .harness import synth

    cache: dict[str, Any] = {}

    def run(targets: str = "both", *, secret: str | None = "default", **config: Any) -> Any:
        key = json.dumps([targets, secret, config], sort_keys=True)
        if key not in cache:
            kwargs: dict[str, Any] = {} if secret == "default" else {"secret": secret}
            cache[key] = synth({"targets": targets, **config}, package=lambda_package, **kwargs)
        return cache[key]

    return run
