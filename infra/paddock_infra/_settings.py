"""From Pulumi stack settings to pydantic input, and from validation errors back to one line
per setting.

Pulumi reads settings one key at a time, so nothing would notice a misspelt key:
``stack_settings`` lists every key the stack sets in a namespace. ``error_lines`` renders a
``ValidationError`` as ``paddock:<key> <what is wrong>; got <value>``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pulumi
from pulumi.runtime import config as runtime_config
from pydantic import ValidationError
from pydantic_core import ErrorDetails


def stack_settings(
    cfg: pulumi.Config, known: Iterable[str], *, secret: Iterable[str]
) -> dict[str, str | pulumi.Output[str]]:
    """The settings of ``cfg``'s namespace that are set and not empty, by key: text, or a secret
    ``Output`` for the keys in ``secret``.

    ``known`` keys are read as ``pulumi.Config`` reads them (explicit config, then the
    ``PULUMI_CONFIG_<KEY>`` variable, then ``PULUMI_CONFIG``); every other key the stack sets is
    listed from the config map so that validation can name it.
    """
    prefix = f"{cfg.name}:"
    present = {*runtime_config.CONFIG.get(), *runtime_config.get_config_env()}
    keys = {*known, *(k.removeprefix(prefix) for k in present if k.startswith(prefix))}
    secret = set(secret)
    settings: dict[str, str | pulumi.Output[str]] = {}
    for key in sorted(keys):
        if key in secret:
            value = cfg.get_secret(key)
            if value is not None:
                settings[key] = value
        elif text := cfg.get(key):  # "" reads as unset, as it always has
            settings[key] = text
    return settings


def error_lines(exc: ValidationError, *, namespace: str, sections: Iterable[str]) -> list[str]:
    """One line per error, naming the setting (``<namespace>:<key>``) and what is wrong.

    ``sections`` are the top-level fields that group settings (``aws``, ``llm``...): they are
    not settings themselves, so they are left out of the names.
    """
    errors = exc.errors(include_url=False)
    lines: list[str] = []
    for error in errors:
        loc = error["loc"]
        # A list's own error ("too short") adds nothing to its items' errors.
        if any(
            len(other["loc"]) > len(loc) and other["loc"][: len(loc)] == loc for other in errors
        ):
            continue
        line = _line(error, _Where.of(loc, namespace, set(sections)))
        if line not in lines:  # a key two sections share is reported once
            lines.append(line)
    return lines


def unknown_setting(where: str) -> str:
    """The error line for a key no model declares (a misspelling, most often)."""
    return f"{where} is not a setting this program reads (see infra/Pulumi.dev.yaml.example)"


@dataclass(frozen=True)
class _Where:
    name: str
    nested: bool
    """Inside a setting's value (a list item, a map entry, a grant's field)."""
    map_key: bool
    """The error is about a map's key, which ``name`` already shows."""

    @classmethod
    def of(cls, loc: tuple[int | str, ...], namespace: str, sections: set[str]) -> _Where | None:
        parts = list(loc[1:] if loc and loc[0] in sections else loc)
        if not parts:
            return None
        head, *rest = parts
        name = "stack name" if head == "stack" else f"{namespace}:{head}"
        for part in rest:
            if part != "[key]":  # pydantic's marker for an error in a map's key
                name += f"[{part}]" if isinstance(part, int) else f".{part}"
        return cls(name, nested=bool(rest), map_key="[key]" in rest)


_PLAIN = {
    "list_type": "must be a list",
    "tuple_type": "must be a list",
    "dict_type": "must be a map",
    "too_short": "must not be empty",
}
"""Errors whose stock message names a Python type or counts items."""


def _line(error: ErrorDetails, where: _Where | None) -> str:
    kind, message = error["type"], error["msg"]
    if kind == "value_error":  # a model validator's sentence names its settings itself
        text = str(error.get("ctx", {}).get("error", message))
        return text if where is None else f"{where.name}: {text}"
    if where is None:
        return message
    if kind == "missing":
        hint = "" if where.nested else f": pulumi config set {where.name} <value>"
        return f"{where.name} is required{hint}"
    if kind == "extra_forbidden":
        return f"{where.name} is not expected here" if where.nested else unknown_setting(where.name)
    if kind == "json_invalid":
        what = f"must be JSON ({message.removeprefix('Invalid JSON: ')})"
    else:
        what = _PLAIN.get(kind) or _must(message)
    got = error.get("input")
    if where.map_key or isinstance(got, pulumi.Output):  # the key is in the name; secrets never
        return f"{where.name} {what}"
    return f"{where.name} {what}; got {got!r}"


def _must(message: str) -> str:
    """pydantic's ``Input should be ...`` read as ``must be ...``."""
    if message.startswith("Input should"):
        return "must" + message.removeprefix("Input should")
    return message
