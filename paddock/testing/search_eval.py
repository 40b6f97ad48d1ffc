"""Measuring tool search: recall on labelled goals and the prompt tokens it saves.

Used by ``bench/tool_search.py`` and the tests that print the same figures.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from core.catalog.export import to_openai_tools
from core.catalog.search import ToolIndex
from core.domain import Tool
from core.errors import ConfigError


@dataclass(frozen=True)
class LabelledGoal:
    goal: str
    expected: tuple[str, ...]
    """operationIds; the goal is found when any of them is ranked within k."""


@dataclass(frozen=True)
class RecallReport:
    k: int
    goals: int
    hits: int
    misses: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]
    """(goal, expected, what was ranked instead) for each miss."""

    @property
    def recall(self) -> float:
        return self.hits / self.goals if self.goals else 0.0


def load_goals(path: Path) -> list[LabelledGoal]:
    """Goals from a YAML file ``{goals: [{goal, expected: [operationId, ...]}, ...]}``."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return [
            LabelledGoal(goal=str(g["goal"]), expected=tuple(map(str, g["expected"])))
            for g in data["goals"]
        ]
    except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
        raise ConfigError(f"cannot read labelled goals from {path}: {exc}") from exc


def recall_at(index: ToolIndex, goals: Sequence[LabelledGoal], k: int) -> RecallReport:
    hits = 0
    misses: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = []
    for goal in goals:
        ranked = tuple(t.binding.operation for t in index.search(goal.goal, k))
        if set(goal.expected) & set(ranked):
            hits += 1
        else:
            misses.append((goal.goal, goal.expected, ranked))
    return RecallReport(k=k, goals=len(goals), hits=hits, misses=tuple(misses))


def prompt_tokens(tools: Sequence[Tool]) -> int:
    """Tokens the tools take in a chat.completions request, at about four characters a token
    (OpenAI's rule of thumb; the same estimate ScriptedOpenAI reports)."""
    text = json.dumps(to_openai_tools(tools), ensure_ascii=False)
    return max(1, math.ceil(len(text) / 4))


def mean_view_tokens(
    index: ToolIndex, goals: Sequence[LabelledGoal], k: int, extra: Sequence[Tool] = ()
) -> float:
    """Mean prompt tokens of the top-``k`` tools (plus ``extra``) over the goals."""
    sizes = [prompt_tokens([*index.search(g.goal, k), *extra]) for g in goals]
    return sum(sizes) / len(sizes) if sizes else 0.0
