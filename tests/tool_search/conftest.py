"""The large real catalog and the labelled goals, loaded once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.catalog import Catalog
from core.catalog.search import ToolIndex
from paddock.testing.search_eval import LabelledGoal, load_goals

DATA = Path(__file__).resolve().parents[1] / "data"
FIGURES: list[str] = []
"""Lines the recall test measured; printed in pytest's summary even when output is captured."""


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for line in FIGURES:
        terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def stripe() -> Catalog:
    return Catalog.from_sources([str(DATA / "specs/stripe_spec3.json.gz")])


@pytest.fixture(scope="session")
def stripe_index(stripe: Catalog) -> ToolIndex:
    return ToolIndex(stripe.tools)


@pytest.fixture(scope="session")
def goals() -> list[LabelledGoal]:
    return load_goals(DATA / "tool_search/stripe_goals.yaml")
