"""Python functions as a catalog source: ``python:package.module`` (every function the module
decorated with ``@paddock.tool``) or ``python:package.module:function`` (one of them).

Only the operator names these sources (the CLI, a deployed workflow bundle, code that builds
a ``Catalog``): a run request to the API can name spec URLs only, never an import path, since
importing a module runs its code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.catalog.openapi import ImportResult
from core.domain import Tool
from core.domain.pytool import PythonTool, marked, module_tools, resolve, spec_ref
from core.errors import SpecError

PREFIX = "python:"


def import_python(source: str) -> ImportResult:
    """The tools a ``python:`` source names.

    Raises:
        SpecError: the module cannot be imported, or names no decorated function.
    """
    path = source.removeprefix(PREFIX).strip()
    found = [resolve(path)] if ":" in path else module_tools(path)
    spec = spec_ref(source, found)
    return ImportResult(spec=spec, tools=[t.as_tool(spec) for t in found], warnings=[])


def python_tools(*functions: Callable[..., Any]) -> list[Tool]:
    """Catalog tools for decorated functions, for ``Catalog(python_tools(f, g))``.

    Raises:
        SpecError: a function is not decorated with ``@paddock.tool``.
    """
    described: list[PythonTool] = []
    for fn in functions:
        found = marked(fn)
        if found is None:
            name = getattr(fn, "__qualname__", repr(fn))
            raise SpecError(f"{name}: not a function decorated with @paddock.tool")
        described.append(found)
    spec = spec_ref(PREFIX + ",".join(t.target for t in described), described)
    return [t.as_tool(spec) for t in described]
