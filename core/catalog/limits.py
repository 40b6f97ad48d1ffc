"""What loading one spec may cost: the caps the loader enforces, and the hosts a download's
redirects may reach.

The process's caps come from ``PADDOCK_CATALOG_*`` (``core.settings.catalog``), read on first
use; :func:`load_limits` narrows them for the code inside a ``with`` block (the API names the
hosts a request may reach). Every check raises ``SpecError`` with one line naming the cap.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any

from core.errors import SpecError
from core.settings import CatalogSettings


@dataclass(frozen=True)
class LoadLimits:
    """Caps on one spec source; see ``core.settings.catalog`` for each default."""

    max_download_bytes: int = 20 * 2**20
    max_decompressed_bytes: int = 50 * 2**20
    max_depth: int = 128
    max_refs: int = 20_000
    strict_refs: bool = True
    """An unresolvable ``$ref`` fails the import (else: a warning, and the schema there
    accepts any value)."""
    allowed_hosts: frozenset[str] | None = None
    """Hosts every redirect hop may reach; ``None``: only the first URL's own host."""
    max_redirects: int = 5

    @classmethod
    def from_settings(cls, settings: CatalogSettings) -> LoadLimits:
        return cls(
            max_download_bytes=settings.max_download_bytes,
            max_decompressed_bytes=settings.max_decompressed_bytes,
            max_depth=settings.max_depth,
            max_refs=settings.max_refs,
            strict_refs=settings.unresolved_refs == "error",
        )


_current: ContextVar[LoadLimits | None] = ContextVar("paddock_load_limits", default=None)
_process: list[LoadLimits] = []
_lock = threading.Lock()


def current_limits() -> LoadLimits:
    """The caps in force here: the innermost :func:`load_limits`, else the process's."""
    found = _current.get()
    if found is not None:
        return found
    with _lock:
        if not _process:
            _process.append(LoadLimits.from_settings(CatalogSettings.from_env()))
        return _process[0]


@contextmanager
def load_limits(
    limits: LoadLimits | None = None, *, hosts: Collection[str] | None = None, **caps: Any
) -> Iterator[LoadLimits]:
    """Apply ``limits`` (default: the current ones) with ``caps`` replaced and, when given,
    redirects restricted to ``hosts``, for the code in the block."""
    chosen = replace(limits or current_limits(), **caps)
    if hosts is not None:
        chosen = replace(chosen, allowed_hosts=frozenset(h.lower() for h in hosts))
    token = _current.set(chosen)
    try:
        yield chosen
    finally:
        _current.reset(token)


def check_shape(document: Any, source: str, limits: LoadLimits) -> None:
    """Refuse a parsed document nested deeper than ``max_depth`` or holding more than
    ``max_refs`` ``$ref``s. Iterative, and each shared object (a YAML alias) is walked once."""
    seen: set[int] = set()
    stack: list[tuple[Any, int]] = [(document, 1)]
    refs = 0
    while stack:
        node, depth = stack.pop()
        if not isinstance(node, dict | list) or id(node) in seen:
            continue
        seen.add(id(node))
        if depth > limits.max_depth:
            raise SpecError(
                f"{source}: nested deeper than {limits.max_depth} levels "
                "(PADDOCK_CATALOG_MAX_DEPTH)"
            )
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs += 1
                if refs > limits.max_refs:
                    raise SpecError(
                        f"{source}: more than {limits.max_refs} $refs (PADDOCK_CATALOG_MAX_REFS)"
                    )
            stack.extend((v, depth + 1) for v in node.values())
        else:
            stack.extend((v, depth + 1) for v in node)
