"""Tools for tests, written as flat as an OpenAPI operation reads."""

from __future__ import annotations

from typing import Any

from core.domain import HttpBinding, Param, Tool


def http_tool(
    *,
    name: str,
    method: str,
    path: str,
    base_url: str,
    operation_id: str | None = None,
    params: tuple[Param, ...] = (),
    body_content_type: str | None = None,
    **definition: Any,
) -> Tool:
    """A tool bound to an HTTP operation: the wire fields go to its ``HttpBinding`` (the
    operation id defaults to the name), everything else to the definition."""
    binding = HttpBinding(
        method=method,
        path=path,
        base_url=base_url,
        operation_id=operation_id or name,
        params=params,
        body_content_type=body_content_type,
    )
    return Tool(name=name, binding=binding, **definition)
