"""The executor of Python-function tools (``@paddock.tool``): the same capability check, the
idempotency key, and errors as data, like the HTTP and MCP executors.

The loop around it is the same for every wire: the guard decided the call, the orchestrator
checkpoints the step before and after, traces the call and counts it against the budget. The
function runs in this worker's process; an ``async def`` tool runs on an event loop of its own
(in a helper thread when this thread already runs one), bounded by ``timeout``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from pydantic_core import to_jsonable_python

from core.domain import PythonBinding, SideEffect, Tool
from core.domain.pytool import KEY_PARAM, PythonTool, resolve
from core.errors import SpecError
from core.execution._schema import validate_body
from core.execution.base import CallContext, ExecutionResult, refused

if TYPE_CHECKING:
    from core.execution.hooks import CallVerifier

DEFAULT_TIMEOUT = 60.0


class PythonExecutor:
    """Calls decorated Python functions in this process. A return reads as status 200 with
    the value as JSON; an exception as status 500 with ``error`` set (retryable only for
    ``read`` tools). Arguments are validated against the signature before the call; a call
    whose binding does not resolve to a decorated function is refused, nothing runs.

    Args:
        verifier: the identity layer's capability check (``None``: accept every call).
        timeout: seconds an ``async`` tool may run (a sync function cannot be interrupted).
    """

    def __init__(
        self, verifier: CallVerifier | None = None, *, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        self._verifier = verifier
        self._timeout = timeout

    def execute(self, tool: Tool, args: dict[str, Any], ctx: CallContext) -> ExecutionResult:
        binding = tool.binding
        if not isinstance(binding, PythonBinding):
            return refused(f"{tool.name}: binding {binding.kind!r} is not python")
        if self._verifier is not None:
            reason = self._verifier.verify(tool, args, ctx)
            if reason is not None:
                return refused(reason)
        try:
            found = resolve(binding.target)
            kwargs = _arguments(found, args, ctx)
        except SpecError as exc:
            return refused(exc.message)
        started = time.perf_counter()
        try:
            value = self._call(found, kwargs)
        except Exception as exc:  # the tool's own failure is data for the planner
            return ExecutionResult(
                status_code=500,
                error=f"{type(exc).__name__}: {exc}"[:500],
                retryable=tool.side_effect is SideEffect.READ,
                elapsed_ms=(time.perf_counter() - started) * 1000,
            )
        body = to_jsonable_python(value, fallback=str)
        result = ExecutionResult(
            status_code=200, body=body, elapsed_ms=(time.perf_counter() - started) * 1000
        )
        schema = tool.response_schema(200)
        if schema is not None:
            result.valid, result.validation_errors = validate_body(schema, body)
        return result

    def _call(self, found: PythonTool, kwargs: dict[str, Any]) -> Any:
        if not found.is_async:
            return found.function(**kwargs)
        coro = asyncio.wait_for(found.function(**kwargs), self._timeout)
        return run_coroutine(coro)


def run_coroutine(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run ``coro`` to completion from sync code: on a fresh event loop, or in a helper
    thread when this thread already runs a loop (blocking that loop would deadlock it)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def _arguments(found: PythonTool, args: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
    try:
        validated = found.args_model.model_validate(args)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "$"
        raise SpecError(f"arguments do not match {found.name}: {where}: {first['msg']}") from None
    # Fields as validated (nested models stay models), not a JSON dump of them.
    kwargs = {name: getattr(validated, name) for name in type(validated).model_fields}
    if found.takes_key:
        kwargs[KEY_PARAM] = ctx.idempotency_key
    return kwargs
