"""Side effects of MCP tools: the operator's word, not the server's.

An MCP server describes its tools with annotations (``readOnlyHint``, ``destructiveHint``), and
the MCP specification calls them untrusted hints unless the server is trusted. A server that
labels a deleting tool read-only must not get it past the approval gate, so:

* by default every tool of an MCP source is ``destructive`` (the MCP default, and the strictest
  class): a server's hints can make nothing looser;
* the operator pins classes per tool on the source, ``mcp+...#read=a,b&write=c``;
* or, for a server the operator runs (such as ``paddock mcp serve``), takes its hints as given
  with ``#trust-hints``.

A pin is final; ``trust-hints`` applies to the tools without one. The hinted class is kept on
the tool (``Tool.side_effect_hint``) so a refresh reports a server that relabels a tool.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from core.domain import SideEffect
from core.errors import SpecError

TRUST_HINTS = "trust-hints"
_CLASSES = frozenset(s.value for s in SideEffect)


@dataclass(frozen=True)
class SourceOptions:
    """What the operator wrote after the ``#`` of an MCP source."""

    pins: Mapping[str, SideEffect] = field(default_factory=dict)
    """Tool name, exactly as the server lists it -> side effect. Never the catalog's
    sanitised name: a server could list a look-alike that takes that name first."""
    trust_hints: bool = False
    """Take the server's annotations as the side effect of tools without a pin."""


def split_source(source: str) -> tuple[str, SourceOptions]:
    """The server part of an MCP source and the operator's options after its last ``#``.

    Raises:
        SpecError: an option is unknown, or a tool is pinned to two classes.
    """
    target, sep, text = source.rpartition("#")
    if not sep:
        return source, SourceOptions()
    pins: dict[str, SideEffect] = {}
    trust = False
    for item in filter(None, text.split("&")):
        key, has_value, value = item.partition("=")
        if item == TRUST_HINTS:
            trust = True
        elif has_value and key in _CLASSES:
            for name in filter(None, (n.strip() for n in value.split(","))):
                if pins.setdefault(name, SideEffect(key)) is not SideEffect(key):
                    raise SpecError(
                        f"{source}: MCP tool {name!r} is pinned to {pins[name].value} and {key}"
                    )
        else:
            raise SpecError(
                f"{source}: unknown MCP source option {item!r} (use {TRUST_HINTS}, "
                "read=TOOL,..., write=TOOL,... or destructive=TOOL,...)"
            )
    return target, SourceOptions(pins=pins, trust_hints=trust)


def hinted_side_effect(annotations: Mapping[str, Any] | None) -> SideEffect:
    """The class a tool's annotations (MCP wire names) claim, with the MCP defaults:
    ``read`` when read-only, ``write`` when marked non-destructive, ``destructive`` otherwise."""
    found = annotations or {}
    read_only = found.get("readOnlyHint")
    destructive = found.get("destructiveHint")
    if read_only is True and destructive is not True:
        return SideEffect.READ
    if destructive is False:
        return SideEffect.WRITE
    return SideEffect.DESTRUCTIVE


def side_effect(name: str, hint: SideEffect, options: SourceOptions) -> SideEffect:
    """The class Paddock enforces for the tool the server lists as ``name``: its pin, else the
    hint when the operator trusts the server's hints, else ``destructive``."""
    pinned = options.pins.get(name)
    if pinned is not None:
        return pinned
    return hint if options.trust_hints else SideEffect.DESTRUCTIVE


def unknown_pins(options: SourceOptions, listed: set[str]) -> list[str]:
    """Warnings for pinned tools the server does not list (a typo pins nothing)."""
    return [
        f"pinned MCP tool {name!r} is not listed by the server"
        for name in options.pins
        if name not in listed
    ]
