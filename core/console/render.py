"""Templates and static files of the console, loaded from the package (no build step)."""

from __future__ import annotations

import functools
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from core.console.views import shown

HERE = Path(__file__).resolve().parent
STATIC_TYPES = {
    "console.css": "text/css; charset=utf-8",
    "console.js": "text/javascript; charset=utf-8",
}


@functools.cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(shown=shown, when=_when, usd=_usd, percent=_percent)
    return env


def render(template: str, **context: Any) -> bytes:
    return environment().get_template(template).render(**context).encode()


@functools.cache
def static_file(name: str) -> tuple[bytes, str] | None:
    """The bytes and content type of a static file, or ``None`` for an unknown name."""
    ctype = STATIC_TYPES.get(name)
    if ctype is None:
        return None
    return (HERE / "static" / name).read_bytes(), ctype


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else ""


def _usd(value: float | None) -> str:
    return f"${value or 0:.4f}"


def _percent(value: float | None) -> str:
    return "not stated" if value is None else f"{value * 100:.0f}%"
