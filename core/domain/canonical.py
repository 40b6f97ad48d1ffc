"""Canonical forms that approvals, capability tokens and idempotency keys bind to."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace: equal data gives equal text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def canonical_args_hash(tool_name: str, args: dict[str, Any]) -> str:
    """sha256 over the tool name and its canonical arguments."""
    text = canonical_json({"tool": tool_name, "args": args})
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def idempotency_key(run_id: str, step_index: int, call_index: int) -> str:
    """The key every write of one call carries, so a replayed step never repeats it."""
    raw = f"{run_id}:{step_index}:{call_index}"
    return "pdk-" + hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]
