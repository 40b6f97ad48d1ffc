"""What is wrong with a bundle: one line per problem, naming the file and, where the format has
lines, the line."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from core.errors import ConfigError


@dataclass(frozen=True)
class Problem:
    file: str
    """The file's path relative to the bundle folder (``paddock.yaml``, ``policy/x.cedar``)."""
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.message}"

    def as_json(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "message": self.message}


class BundleError(ConfigError):
    """A bundle that cannot be used; ``problems`` lists everything wrong with it."""

    def __init__(self, folder: str, problems: Sequence[Problem]) -> None:
        self.folder = folder
        self.problems = list(problems)
        first = str(self.problems[0]) if self.problems else "invalid bundle"
        more = f" (and {len(self.problems) - 1} more problems)" if len(self.problems) > 1 else ""
        super().__init__(f"workflow bundle {folder}: {first}{more}")


def yaml_lines(text: str) -> dict[tuple[str | int, ...], int]:
    """The 1-based line of every node of a YAML text, by its path of keys and indices.

    Used to point a schema error (a path into the parsed data) at the line it came from. An
    unparsable text gives an empty map (the parse error carries its own line).
    """
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return {}
    lines: dict[tuple[str | int, ...], int] = {}
    stack: list[tuple[tuple[str | int, ...], yaml.Node]] = [((), root)] if root else []
    while stack:
        path, node = stack.pop()
        lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                lines[(*path, str(key.value))] = key.start_mark.line + 1
                stack.append(((*path, str(key.value)), value))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(((*path, i), item) for i, item in enumerate(node.value))
    return lines


def line_of(lines: Mapping[tuple[str | int, ...], int], path: Iterable[str | int]) -> int | None:
    """The line of ``path``, or of its nearest ancestor that has one."""
    parts = tuple(path)
    while parts:
        if parts in lines:
            return lines[parts]
        parts = parts[:-1]
    return lines.get(())


def yaml_error_line(exc: yaml.YAMLError) -> int | None:
    mark = getattr(exc, "problem_mark", None)
    return mark.line + 1 if mark is not None else None
