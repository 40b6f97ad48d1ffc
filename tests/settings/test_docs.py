"""docs/settings.md lists every setting as the models define it."""

from __future__ import annotations

from pathlib import Path

from core.settings import runtime_prefixes, runtime_variables
from core.settings.reference import reference

DOC = Path(__file__).resolve().parents[2] / "docs" / "settings.md"
START, END = "<!-- settings reference: start -->\n", "<!-- settings reference: end -->"


def test_the_reference_in_the_docs_is_the_models() -> None:
    text = DOC.read_text()
    shown = text[text.index(START) + len(START) : text.index(END)]
    assert shown == reference(), "regenerate: python -m core.settings.reference"


def test_the_reference_names_every_variable_once() -> None:
    rows = [line for line in reference().splitlines() if line.startswith("| `")]
    named = [row.split("`")[1] for row in rows]
    others = [row.split("`")[3] for row in rows if "(else `" in row.split("|")[1]]
    assert sorted(named + others) == sorted(
        runtime_variables() | {p + "<NAME>" for p in runtime_prefixes()}
    )
