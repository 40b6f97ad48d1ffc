"""Hostile specs: each attack is a real file or a real local server, loaded by the CLI in its own
process whose peak RSS is measured, and by ``POST /runs``; each ends in one clear line (exit 2)
or a 422 ``invalid_catalog``, never a traceback, a 500 or a worker out of memory."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.catalog.hostile import VALID, deep_json, deep_yaml, gzip_bomb, hostile_site

ROOT = Path(__file__).resolve().parents[2]
RSS_MARGIN_MB = 80
"""Peak RSS a hostile load may add over loading a small valid spec (at most the 50 MiB default
decompression cap plus overhead); the unbounded loader took the bomb's 1 GiB and more."""

_MEASURE = """
import resource, sys
from paddock.cli.main import main
code = main(sys.argv[1:])
print(f"MAXRSS_KB {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}", file=sys.stderr)
sys.exit(code)
"""


@dataclass(frozen=True)
class Outcome:
    code: int
    lines: list[str]
    rss_mb: float


def cli(*args: str, env: dict[str, str] | None = None) -> Outcome:
    """``paddock ARGS`` in a fresh interpreter; its exit code, stderr lines and peak RSS."""
    full = {**os.environ, "NO_COLOR": "1", **(env or {})}
    proc = subprocess.run(
        [sys.executable, "-c", _MEASURE, *args],
        cwd=ROOT,
        env=full,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    rss = next(int(line.split()[1]) for line in lines if line.startswith("MAXRSS_KB"))
    return Outcome(proc.returncode, [ln for ln in lines if not ln.startswith("MAXRSS")], rss / 1024)


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bomb") / "spec.json.gz"
    path.write_bytes(gzip_bomb())
    return path


@pytest.fixture(scope="module")
def site(bomb: Path) -> Iterator[str]:
    with hostile_site(bomb.read_bytes()) as url:
        yield url


@pytest.fixture(scope="module")
def baseline_mb(tmp_path_factory: pytest.TempPathFactory) -> float:
    path = tmp_path_factory.mktemp("valid") / "valid.json"
    path.write_bytes(VALID)
    outcome = cli("catalog", "import", str(path))
    assert outcome.code == 0, outcome.lines
    return outcome.rss_mb


CAPPED = {"PADDOCK_CATALOG_MAX_DECOMPRESSED_BYTES": str(8 << 20)}


def _refused(outcome: Outcome, baseline_mb: float, *needles: str) -> None:
    assert outcome.code == 2, outcome.lines
    assert len(outcome.lines) == 1 and outcome.lines[0].startswith("paddock: error: ")
    for needle in needles:
        assert needle in outcome.lines[0]
    assert outcome.rss_mb < baseline_mb + RSS_MARGIN_MB, (outcome.rss_mb, baseline_mb)


def test_gzip_bomb_file_stops_at_the_decompression_cap(bomb: Path, baseline_mb: float) -> None:
    outcome = cli("catalog", "import", str(bomb), env=CAPPED)
    _refused(outcome, baseline_mb, "PADDOCK_CATALOG_MAX_DECOMPRESSED_BYTES")
    # with the default cap (50 MiB) the peak stays near the cap, not the bomb's 1 GiB
    _refused(cli("catalog", "import", str(bomb)), baseline_mb, "52,428,800 bytes")


def test_gzip_bomb_url_stops_at_the_decompression_cap(site: str, baseline_mb: float) -> None:
    outcome = cli("catalog", "import", f"{site}/bomb.json.gz", env=CAPPED)
    _refused(outcome, baseline_mb, "expands to more than 8,388,608 bytes")


def test_download_cap_stops_a_large_body(site: str, baseline_mb: float) -> None:
    capped = {"PADDOCK_CATALOG_MAX_DOWNLOAD_BYTES": "4096"}
    outcome = cli("catalog", "import", f"{site}/bomb.json.gz", env=capped)
    _refused(outcome, baseline_mb, "PADDOCK_CATALOG_MAX_DOWNLOAD_BYTES")


@pytest.mark.parametrize("name", ["deep.json", "deep.yaml"])
def test_deep_documents_are_refused_by_depth(
    name: str, site: str, tmp_path: Path, baseline_mb: float
) -> None:
    path = tmp_path / name
    path.write_bytes(deep_json() if name.endswith("json") else deep_yaml())
    for source in (str(path), f"{site}/{name}"):
        _refused(cli("catalog", "import", source), baseline_mb, "nest")
    # under the parsers' own limits, the depth cap is what refuses it
    maker = deep_json if name.endswith("json") else deep_yaml
    path.write_bytes(maker(200))
    outcome = cli("catalog", "import", str(path))
    _refused(outcome, baseline_mb, "nested deeper than 128 levels (PADDOCK_CATALOG_MAX_DEPTH)")


def test_deep_json_in_a_run_is_one_line(tmp_path: Path, baseline_mb: float) -> None:
    path = tmp_path / "deep.json"
    path.write_bytes(deep_json())
    outcome = cli("run", "--catalog", str(path), "--goal", "g", "--approve", "reject")
    _refused(outcome, baseline_mb, "nested too deeply", "PADDOCK_CATALOG_MAX_DEPTH")


def test_redirects_are_checked_at_every_hop(site: str, baseline_mb: float) -> None:
    outcome = cli("catalog", "import", f"{site}/hop")
    _refused(outcome, baseline_mb, "redirected to http://localhost:", "'localhost'")
    assert cli("catalog", "import", f"{site}/valid.json").code == 0


def test_an_unresolvable_ref_is_an_error_naming_it_unless_the_operator_opts_out(
    site: str, baseline_mb: float
) -> None:
    outcome = cli("catalog", "import", f"{site}/ref.json")
    _refused(outcome, baseline_mb, "$ref '#/components/schemas/Gone' cannot be resolved")
    lenient = cli(
        "catalog", "import", f"{site}/ref.json", env={"PADDOCK_CATALOG_UNRESOLVED_REFS": "warn"}
    )
    assert lenient.code == 0, lenient.lines
