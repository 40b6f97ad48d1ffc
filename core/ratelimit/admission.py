"""Shared rate limits for backend APIs, per tool or per host, asked before a call is claimed.

The orchestrator calls :meth:`ToolLimits.admit` with the calls it is about to execute. When a
bucket is spent it answers with a :class:`Wait` and nothing is claimed: the engine stops with a
``Throttled`` outcome, the worker puts the run back on its queue with the delay the bucket
names, and every worker on either cloud shares the same buckets through the ``RunStore``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from core.domain import CallRecord, Run, Tool
from core.ratelimit.bucket import Limit, RateLimiter


@dataclass(frozen=True)
class Wait:
    """The calls may not go out now: ask again after ``seconds``."""

    seconds: float
    reason: str


class CallAdmission(Protocol):
    """Decides whether calls may go out now."""

    def admit(self, run: Run, calls: Sequence[tuple[CallRecord, Tool | None]]) -> Wait | None:
        """``None``: they may (what they use is taken); else how long to wait, and why."""
        ...


class ToolLimits:
    """Requests-per-window buckets by tool name and by host (``host:port`` of the base URL).

    Args:
        limiter: the shared limiter (over the ``RunStore``).
        tools: tool name -> limit.
        hosts: host (as in the tool's base URL, e.g. ``erp.example.com``) -> limit.
    """

    def __init__(
        self,
        limiter: RateLimiter,
        *,
        tools: Mapping[str, Limit] | None = None,
        hosts: Mapping[str, Limit] | None = None,
    ) -> None:
        self._limiter = limiter
        self._tools = dict(tools or {})
        self._hosts = {h.lower(): limit for h, limit in (hosts or {}).items()}

    def wants(self, calls: Sequence[tuple[CallRecord, Tool | None]]) -> list[tuple[Limit, float]]:
        """The buckets and amounts these calls need (one unit per call per bucket)."""
        need: dict[str, tuple[Limit, float]] = {}
        for call, tool in calls:
            limits = [self._tools.get(call.tool)]
            if tool is not None:
                limits.append(self._hosts.get(_netloc(tool.binding.endpoint)))
            for limit in limits:
                if limit is not None:
                    _, amount = need.get(limit.name, (limit, 0.0))
                    need[limit.name] = (limit, amount + 1)
        return list(need.values())

    def admit(self, run: Run, calls: Sequence[tuple[CallRecord, Tool | None]]) -> Wait | None:
        """Take one unit per call from each bucket the calls need, from all or from none."""
        wants = self.wants(calls)
        if not wants:
            return None
        grant = self._limiter.try_acquire_all(wants, party=run.tenant)
        if grant.granted:
            return None
        names = ", ".join(limit.name for limit, _ in wants)
        return Wait(max(0.0, grant.retry_after), f"run {run.id}: backend rate limit ({names})")


def _netloc(endpoint: str | None) -> str:
    """The host (and port, when given) a host limit is keyed by; empty for in-process calls."""
    return (urlsplit(endpoint).netloc if endpoint else "").lower()
