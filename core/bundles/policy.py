"""The bundle's ``policy/``: Cedar rules that must parse and type-check against its catalog."""

from __future__ import annotations

import re
from pathlib import Path

import cedarpy

from core.domain import Tool
from core.errors import ConfigError
from core.guardrails import load_policy_set

_OFFSET = re.compile(r"at offset (\d+)|\[(\d+)\.\.")


def policy_problems(directory: Path, tools: list[Tool]) -> list[tuple[Path, str, int | None]]:
    """(file, message, line) of everything wrong with the policy folder (empty: it loads)."""
    files = sorted(directory.glob("*.cedar"))
    if not files:
        return [(directory, "no .cedar files", None)]
    found: list[tuple[Path, str, int | None]] = []
    for file in files:
        text = file.read_text(encoding="utf-8")
        try:
            cedarpy.policies_to_json_str(text)
        except ValueError as exc:
            found.append((file, f"Cedar syntax error: {_first(str(exc))}", _line(text, str(exc))))
    if found:
        return found
    for file in files:  # one file at a time, so a type error names its file
        try:
            load_policy_set(file, tools)
        except ConfigError as exc:
            found.append((file, _message(str(exc), file), None))
    if not found:
        try:
            load_policy_set(directory, tools)  # ids unique across files, policy.yaml
        except ConfigError as exc:
            found.append((directory, _message(str(exc), directory), None))
    return found


def _message(text: str, where: Path) -> str:
    return text.removeprefix(f"{where}: ").removeprefix(f"{where.parent / 'policy.yaml'}: ")


def _first(text: str) -> str:
    return " ".join(text.split())[:300]


def _line(text: str, error: str) -> int | None:
    match = _OFFSET.search(error)
    if match is None:
        return None
    offset = int(match.group(1) or match.group(2))
    return text.count("\n", 0, offset) + 1
