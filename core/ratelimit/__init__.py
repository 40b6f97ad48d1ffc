"""Shared rate limits (token buckets over the RunStore's counters)."""

from core.ratelimit.bucket import Grant, Limit, RateLimitContention, RateLimiter

__all__ = ["Grant", "Limit", "RateLimitContention", "RateLimiter"]
