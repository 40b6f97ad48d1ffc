"""Shared rate limits (token buckets over the RunStore's counters), concurrency slots, and
the LLM and backend limits built on them."""

from core.ratelimit.admission import CallAdmission, ToolLimits, Wait
from core.ratelimit.bucket import Grant, Limit, RateLimitContention, RateLimiter
from core.ratelimit.config import requests_per_minute, tool_limits
from core.ratelimit.llm import DeploymentLimits, RateLimitedPlanner, chat_estimator
from core.ratelimit.slots import Slots
from core.ratelimit.window import window_limit

__all__ = [
    "CallAdmission",
    "DeploymentLimits",
    "Grant",
    "Limit",
    "RateLimitContention",
    "RateLimitedPlanner",
    "RateLimiter",
    "Slots",
    "ToolLimits",
    "Wait",
    "chat_estimator",
    "requests_per_minute",
    "tool_limits",
    "window_limit",
]
