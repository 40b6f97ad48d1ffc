"""Which tools the planner sees when the catalog is large, and the ``search_tools`` meta-tool.

Above ``threshold`` tools, the planner is shown the ``top_k`` tools that BM25 ranks highest
for the goal and the latest reasoning, every tool the run has already called or found, and
``search_tools``: a meta-tool the agent calls with keywords to bring more tools into view on
its next step. A search has no side effect and is answered here, without the executor.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.catalog.export import short_description
from core.catalog.search import ToolIndex
from core.domain import (
    CallRecord,
    CallStatus,
    Decision,
    EngineBinding,
    HttpBinding,
    ProposedCall,
    Run,
    Tool,
    Verdict,
)
from core.errors import ConfigError
from core.guardrails.base import new_decision_id
from core.settings import ModelSettings
from core.settings.model import DEFAULT_SEARCH_THRESHOLD, DEFAULT_SEARCH_TOP_K

SEARCH_TOOL = "search_tools"
DEFAULT_THRESHOLD = DEFAULT_SEARCH_THRESHOLD
DEFAULT_TOP_K = DEFAULT_SEARCH_TOP_K
_log = logging.getLogger(__name__)

SEARCH_TOOL_DEF = Tool(
    name=SEARCH_TOOL,
    description=(
        "Find more tools in the catalog. Only some of the available tools are listed "
        "to you; call this with a few keywords for what you need to do (e.g. 'refund "
        "charge'). The tools found are listed in the answer and can be called from "
        "your next step."
    ),
    args_schema={
        "type": "object",
        "additionalProperties": False,
        "required": ["query"],
        "properties": {
            "query": {"type": "string", "minLength": 2, "maxLength": 200},
            "k": {"type": "integer", "minimum": 1, "maximum": 10},
        },
    },
    binding=EngineBinding(handler="catalog", name=SEARCH_TOOL),
)


@dataclass
class ToolSearch:
    """Narrows large catalogs for the planner (see the module docstring).

    Args:
        threshold: catalogs with at most this many tools are shown whole.
        top_k: how many ranked tools are shown above the threshold.
        found_k: how many tools one ``search_tools`` call returns by default.
    """

    threshold: int = DEFAULT_THRESHOLD
    top_k: int = DEFAULT_TOP_K
    found_k: int = 5
    _indexes: OrderedDict[tuple[Any, ...], ToolIndex] = field(
        default_factory=OrderedDict, repr=False
    )
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _unavailable: bool = field(default=False, repr=False)

    @classmethod
    def from_settings(cls, settings: ModelSettings) -> ToolSearch:
        """``PADDOCK_TOOL_SEARCH_THRESHOLD`` and ``PADDOCK_TOOL_SEARCH_TOP_K``."""
        return cls(threshold=settings.tool_search_threshold, top_k=settings.tool_search_top_k)

    def active(self, tools: Sequence[Tool]) -> bool:
        return len(tools) > self.threshold and not self._unavailable

    def view(self, run: Run, tools: Sequence[Tool]) -> list[Tool]:
        """The tools to show the planner for the run's next step."""
        if not self.active(tools):
            return list(tools)
        index = self._index(tools)
        if index is None:
            return list(tools)
        last = run.steps[-1].reasoning if run.steps else ""
        ranked = index.search(f"{run.goal}\n{last}", self.top_k)
        wanted = _names_in_history(run)
        chosen = {t.name: t for t in ranked}
        chosen.update((t.name, t) for t in tools if t.name in wanted)
        return [*chosen.values(), SEARCH_TOOL_DEF]

    def answer(
        self, proposed: ProposedCall, tools: Sequence[Tool], *, call_id: str, now: datetime
    ) -> CallRecord:
        """Run one ``search_tools`` call; the record is done (or an error for bad args)."""
        query = proposed.args.get("query")
        k = proposed.args.get("k", self.found_k)
        record = CallRecord(
            call_id=call_id,
            tool=SEARCH_TOOL,
            args=dict(proposed.args),
            decision=Decision(
                id=new_decision_id(),
                verdict=Verdict.ALLOW,
                reasons=["catalog search has no side effect"],
                rule_ids=["tool_search"],
            ),
            started_at=now,
            ended_at=now,
        )
        index = self._index(tools)
        if (
            not isinstance(query, str)
            or not query.strip()
            or not isinstance(k, int)
            or (index is None)
        ):
            record.status = CallStatus.ERROR
            record.error = (
                "search_tools needs a non-empty 'query' string and an optional integer 'k'"
                if index is not None
                else "tool search unavailable"
            )
            return record
        found = index.search(query, max(1, min(k, 10)))
        record.status = CallStatus.DONE
        record.result = {"tools": [_found(t) for t in found]}
        return record

    def _index(self, tools: Sequence[Tool]) -> ToolIndex | None:
        key = tuple((t.name, t.spec.sha256 if t.spec else None) for t in tools)
        with self._lock:
            index = self._indexes.get(key)
            if index is not None:
                self._indexes.move_to_end(key)
                return index
        try:
            index = ToolIndex(tools)
        except ConfigError as exc:
            _log.warning("%s; showing the planner every tool", exc.message)
            self._unavailable = True
            return None
        with self._lock:
            self._indexes[key] = index
            while len(self._indexes) > 8:
                self._indexes.popitem(last=False)
        return index


def _names_in_history(run: Run) -> set[str]:
    """Tools the run called before, and tools its searches found."""
    names: set[str] = set()
    for step in run.steps:
        for call in step.calls:
            if call.tool != SEARCH_TOOL:
                names.add(call.tool)
            elif isinstance(call.result, dict):
                names.update(
                    str(t.get("name")) for t in call.result.get("tools", []) if isinstance(t, dict)
                )
    return names


_default = ToolSearch()


def default_tool_search() -> ToolSearch:
    """The process-wide ``ToolSearch`` with the default numbers, for an ``Orchestrator``
    given none (``build_orchestrator`` gives one from ``settings.model``)."""
    return _default


def _found(tool: Tool) -> dict[str, Any]:
    """A tool as ``search_tools`` shows it (method and path for HTTP tools)."""
    shown: dict[str, Any] = {"name": tool.name}
    if isinstance(tool.binding, HttpBinding):
        shown |= {"method": tool.binding.method, "path": tool.binding.path}
    shown |= {
        "side_effect": tool.side_effect.value,
        "description": short_description(tool.description, 200),
    }
    return shown
