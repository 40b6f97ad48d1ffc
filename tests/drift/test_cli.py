"""``paddock catalog diff`` and the bounded ``paddock catalog import --json``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from paddock.cli.main import main

DATA = Path(__file__).resolve().parents[1] / "data"
PAIR_09 = [
    str(DATA / "drift/09_response_property_became_optional" / name)
    for name in (
        "response_property_became_optional_base.yaml",
        "response_property_became_optional_revision.yaml",
    )
]
PAIR_03 = [str(DATA / "drift/03_endpoint_added" / n) for n in ("base.yaml", "revision.yaml")]


def test_diff_exits_1_and_names_each_breaking_change(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "diff", *PAIR_09]) == 1
    out = capsys.readouterr().out
    assert "BREAKING response-property-became-optional" in out
    assert "response 200 $.data.name" in out
    assert "2 change(s): 2 breaking" in out


def test_diff_json_is_a_list_of_changes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "diff", *PAIR_09, "--json"]) == 1
    changes = json.loads(capsys.readouterr().out)
    assert {"operation", "location", "kind", "breaking", "message"} <= set(changes[0])
    assert {(c["kind"], c["location"], c["breaking"]) for c in changes} == {
        ("response-property-became-optional", "response 200 $.data.name", True),
        ("response-property-removed", "response 200 $.location", True),
    }


def test_diff_without_breaking_changes_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "diff", *PAIR_03, "--json"]) == 0
    changes = json.loads(capsys.readouterr().out)
    assert [c["kind"] for c in changes] == ["operation-added", "operation-added"]
    assert not any(c["breaking"] for c in changes)


def test_diff_sunset_day_is_settable(capsys: pytest.CaptureFixture[str]) -> None:
    folder = DATA / "drift/02_endpoint_removed_deprecation"
    args = ["catalog", "diff", str(folder / "deprecated-past.yaml"), str(folder / "sunset.yaml")]
    assert main([*args, "--today", "2022-01-01"]) == 1
    assert main([*args, "--today", "2023-01-01"]) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.yaml", "x.yaml"], "spec not found: missing.yaml"),
        ([*PAIR_03, "--today", "soon"], "--today must be a date"),
    ],
)
def test_diff_bad_input_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(["catalog", "diff", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_import_json_of_the_stripe_spec_is_bounded(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "import", str(DATA / "specs/stripe_spec3.json.gz"), "--json"]) == 0
    out = capsys.readouterr().out
    # Response schemas made this hundreds of megabytes; tools are listed compactly now.
    assert len(out) < 1_000_000
    listing = json.loads(out)
    assert len(listing["tools"]) == 417
    charge = next(t for t in listing["tools"] if t["operation_id"] == "GetChargesCharge")
    assert charge["responses"] == ["200", "default"]
    assert charge["method"] == "GET" and charge["path"] == "/v1/charges/{charge}"
    assert {"name": "charge", "in": "path", "required": True} in charge["params"]
    assert all(len(t["description"]) <= 200 for t in listing["tools"])
    assert listing["specs"][0]["sha256"] == charge["spec"]["sha256"]
