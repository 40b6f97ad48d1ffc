"""The settings as a Markdown reference, from the models themselves (``docs/settings.md``).

Regenerate the page's tables with ``python -m core.settings.reference``; a test keeps the page
and the models in step.
"""

from __future__ import annotations

from typing import Any

from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from core.settings import Settings
from core.settings._base import EnvGroup, field_variables, group_of, prefix_of


def reference() -> str:
    """One table per group: variable, default, what it does."""
    sections = [_table("Process", Settings, top=True)]
    for name, field in Settings.model_fields.items():
        group = group_of(field)
        if group is not None:
            sections.append(_table(f"`settings.{name}`", group))
    return "\n".join(sections)


def _table(title: str, group: type[EnvGroup], *, top: bool = False) -> str:
    doc = _markdown(" ".join((group.__doc__ or "").split("\n\n")[0].split()))
    lines = [f"### {title}: `{group.__name__}`", "", doc, "", "| variable | default | what |"]
    lines.append("|---|---|---|")
    for field in group.model_fields.values():
        if top and group_of(field) is not None:
            continue
        lines.append(f"| {_variables(field)} | {_default(field)} | {_what(field)} |")
    return "\n".join(lines) + "\n"


def _variables(field: FieldInfo) -> str:
    prefix = prefix_of(field)
    if prefix is not None:
        return f"`{prefix}<NAME>`"
    first, *others = field_variables(field)
    return f"`{first}`" + "".join(f" (else `{other}`)" for other in others)


def _what(field: FieldInfo) -> str:
    text = " ".join((field.description or "").split())
    _, sep, rest = text.partition(": ")
    return _markdown(rest if sep else text)


def _markdown(text: str) -> str:
    """Docstring markup (reST literals) as Markdown, fit for a table cell."""
    return text.replace("``", "`").replace("|", "\\|")


def _default(field: FieldInfo) -> str:
    value: Any = field.default
    if value is PydanticUndefined or value is None or value == "" or not field.repr:
        return ""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, tuple | frozenset | dict) and not value:
        return ""
    return f"`{value}`"


if __name__ == "__main__":
    print(reference(), end="")
