"""A child's grant and budget: never wider than its parent's, never beyond what the parent has
left. Used by ``core.orchestrator.children``."""

from __future__ import annotations

from datetime import datetime

from core.domain import Budget, Grant, Run


def narrow_grant(parent: Grant, requested: Grant | None) -> Grant:
    """The intersection of the parent's grant and the one asked for.

    Tools and side effects are intersected (``None`` tools means "every tool", so the other
    side wins). A child may spawn children of its own only when asked for explicitly, and
    then fewer than its parent may (so delegation always ends).
    """
    if requested is None:
        return parent.model_copy(update={"max_children": 0}, deep=True)
    if parent.tools is None:
        tools = None if requested.tools is None else list(requested.tools)
    elif requested.tools is None:
        tools = list(parent.tools)
    else:
        tools = [t for t in requested.tools if t in parent.tools]
    side_effects = [s for s in requested.side_effects if s in parent.side_effects]
    max_children = min(requested.max_children, max(0, parent.max_children - 1))
    return Grant(tools=tools, side_effects=side_effects, max_children=max_children)


def narrow_budget(parent: Run, requested: Budget | None, *, share: int, now: datetime) -> Budget:
    """The child's budget: at most the parent's limits, and of what the parent has left
    (tokens, cost, tool calls) at most one ``share``-th, since ``share`` children start
    together. Wall time is not shared (children run in parallel) but ends with the parent's.
    """
    limits = parent.budget
    wanted = requested or limits
    share = max(1, share)

    def split(parent_limit: float | None, used: float, asked: float | None) -> float | None:
        if parent_limit is None:
            return asked
        part = max(0.0, parent_limit - used) / share
        return part if asked is None else min(asked, part)

    tokens = split(limits.max_tokens, parent.usage.total_tokens, wanted.max_tokens)
    calls = split(limits.max_tool_calls, parent.tool_calls, wanted.max_tool_calls)
    cost = split(limits.max_cost_usd, parent.usage.cost_usd, wanted.max_cost_usd)
    wall = wanted.max_wall_seconds
    if limits.max_wall_seconds is not None:
        left = max(0.0, limits.max_wall_seconds - (now - parent.created_at).total_seconds())
        wall = left if wall is None else min(wall, left)
    return Budget(
        max_steps=min(wanted.max_steps, limits.max_steps),
        max_tool_calls=None if calls is None else int(calls),
        max_tokens=None if tokens is None else int(tokens),
        max_cost_usd=cost,
        max_wall_seconds=wall,
        max_repeats=min(wanted.max_repeats, limits.max_repeats),
        max_idle_steps=min(wanted.max_idle_steps, limits.max_idle_steps),
        max_running_children=min(wanted.max_running_children, limits.max_running_children),
    )
