"""Calls that repeat: a near-duplicate key for loop detection, and rejected calls proposed
again.

Two calls are near-duplicates when they name the same tool and their arguments differ only
trivially: case, spacing, punctuation, format characters, key order, number formatting
(``500`` and ``500.0``). A call a person rejected that comes back as a near-duplicate is
refused without asking the person again.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from core.domain import CallStatus, Run, canonical_json
from core.guardrails.canonical import number_key, words
from core.guardrails.findings import Finding, deny


def near_key(tool: str, args: Any) -> str:
    """The arguments in a form that trivial variations do not change."""
    return tool + ":" + canonical_json(_fold(args))


def _fold(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k).lower(): _fold(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_fold(v) for v in value]
    if isinstance(value, str):
        return " ".join(words(value))
    if isinstance(value, int | float) and not isinstance(value, bool):
        return number_key(Decimal(str(value)))
    return value


def rejected_again(run: Run, tool: str, args: Any) -> Finding | None:
    """A deny when a person already rejected this call (or a near-duplicate) in this run."""
    key: str | None = None  # computed only when a rejected call of this tool exists
    for step in run.steps:
        for call in step.calls:
            if call.status is not CallStatus.REJECTED or call.tool != tool:
                continue
            key = key or near_key(tool, args)
            if near_key(call.tool, call.args) == key:
                return deny(
                    "rejected_again",
                    f"a person rejected this {tool} call in step {step.index} (call "
                    f"{call.call_id}); it is not asked again: choose another way or stop",
                )
    return None
