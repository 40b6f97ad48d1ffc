"""One executor per binding kind: the call goes to the executor of its tool's binding."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.domain import Tool
from core.execution.base import CallContext, ExecutionResult, Executor, refused


class BindingRouter:
    """Sends each call to the executor registered for ``tool.binding.kind``.

    A kind with no executor (an engine tool that reached the executor, a kind this worker was
    not built with) is refused as data: nothing is sent.

    Args:
        executors: binding kind (``http``, ``mcp``...) -> the executor for it.
    """

    def __init__(self, executors: Mapping[str, Executor]) -> None:
        self._executors = dict(executors)

    def execute(self, tool: Tool, args: dict[str, Any], ctx: CallContext) -> ExecutionResult:
        executor = self._executors.get(tool.binding.kind)
        if executor is None:
            known = ", ".join(sorted(self._executors)) or "none"
            return refused(
                f"no executor for {tool.binding.kind} tools such as {tool.name} (this worker "
                f"runs: {known})"
            )
        return executor.execute(tool, args, ctx)
