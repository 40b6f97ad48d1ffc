"""Paddock: fenced LLM agents. The public Python API.

``@paddock.tool`` turns a typed function into a tool (``core.domain.pytool``; importing it
costs nothing but pydantic). ``Paddock`` and ``AsyncPaddock`` embed the orchestrator in your
program; they load the engine on first use. docs/python.md is the reference and tutorial.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.domain import Approval, Budget, Grant, Run, RunStatus
from core.domain.pytool import PythonTool, tool

if TYPE_CHECKING:
    from paddock._api import AsyncPaddock, Paddock

__all__ = [
    "Approval",
    "AsyncPaddock",
    "Budget",
    "Grant",
    "Paddock",
    "PythonTool",
    "Run",
    "RunStatus",
    "tool",
]


def __getattr__(name: str) -> Any:
    # The embedding API pulls in the whole engine: load it only when asked for.
    if name in ("Paddock", "AsyncPaddock"):
        from paddock import _api

        return getattr(_api, name)
    raise AttributeError(f"module 'paddock' has no attribute {name!r}")
