"""Shared LLM limits per model deployment: requests and tokens per minute.

:class:`RateLimitedPlanner` wraps any planner. Before each plan it estimates the call's tokens
(prompt as sent plus an allowance for the answer) and takes one request and that many tokens
from the deployment's buckets; when they are spent it raises ``BudgetSpent`` before any request
goes out, the engine stops with a ``Throttled`` outcome and the worker re-enqueues the run with
the bucket's delay. After the call it reconciles the estimate with the usage the model
reported: an over-estimate goes back, a shortfall is taken as debt.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass

from core.domain import Plan, Run
from core.errors import BudgetSpent, PlannerError
from core.planner.base import PlanContext, Planner
from core.ratelimit.bucket import Limit, RateLimiter
from core.ratelimit.window import window_limit
from core.settings import LimitSettings
from core.state.base import RunStore

TokenEstimator = Callable[[PlanContext], int]
CREDIT_SHARE = 0.5
"""Of a deployment's token burst, the part lent to tenants far below their share (so a tenant's
one interactive run is not deferred behind another's fan-out) instead of held in the bucket.
The request bucket lends nothing: its burst may be a single request."""
UNLIMITED = 1e12
"""Per minute: what a limit that is not set stands at when the other one is."""


@dataclass(frozen=True)
class DeploymentLimits:
    """A deployment's provider limits and the buckets that keep under them."""

    deployment: str
    tokens_per_minute: float
    requests_per_minute: float
    window_seconds: float = 60.0
    burst: float = 0.05
    context_tokens: int | None = None
    """The model's context window, when known."""

    def never_fits(self, tokens: float) -> str | None:
        """Why a request of ``tokens`` can never be sent, or ``None`` when it can.

        A request larger than the provider's whole window (or the context window) is refused
        by the provider however long it waits: deferring it only burns time and tokens.
        """
        window = f"{self.window_seconds:g} s window"
        if self.context_tokens is not None and tokens > self.context_tokens:
            return (
                f"the model request needs about {tokens:,.0f} tokens, more than the "
                f"{self.context_tokens:,} of deployment {self.deployment}'s context window"
            )
        if tokens > self.tokens_per_minute:
            return (
                f"the model request needs about {tokens:,.0f} tokens, more than the "
                f"{self.tokens_per_minute:,.0f} deployment {self.deployment} allows per {window}"
            )
        return None

    @property
    def tpm(self) -> Limit:
        return window_limit(
            f"llm:{self.deployment}:tpm",
            self.tokens_per_minute,
            window_seconds=self.window_seconds,
            burst=self.burst,
            credit_share=CREDIT_SHARE,
        )

    @property
    def rpm(self) -> Limit:
        return window_limit(
            f"llm:{self.deployment}:rpm",
            self.requests_per_minute,
            window_seconds=self.window_seconds,
            burst=self.burst,
        )


def chat_estimator(
    *, system_prompt: str | None = None, completion_allowance: int = 256
) -> TokenEstimator:
    """Estimate a chat.completions request as the OpenAI planner builds it: four characters
    of the JSON messages and tools per token, plus ``completion_allowance`` for the answer."""
    from core.catalog.export import to_openai_tools
    from core.planner.messages import SYSTEM_PROMPT, build_messages, help_tool

    prompt = system_prompt or SYSTEM_PROMPT

    def estimate(ctx: PlanContext) -> int:
        text = json.dumps(build_messages(ctx, prompt), ensure_ascii=False)
        text += json.dumps([*to_openai_tools(ctx.tools), help_tool()], ensure_ascii=False)
        return math.ceil(len(text) / 4) + completion_allowance

    return estimate


class RateLimitedPlanner:
    """A planner that asks the shared buckets before every model call.

    Args:
        inner: the planner that calls the model.
        limiter: the shared limiter.
        limits: the deployment's limits.
        estimate: tokens one plan will use (default: :func:`chat_estimator`).
    """

    def __init__(
        self,
        inner: Planner,
        limiter: RateLimiter,
        limits: DeploymentLimits,
        *,
        estimate: TokenEstimator | None = None,
    ) -> None:
        self.inner = inner
        self._limiter = limiter
        self._limits = limits
        self._tpm = limits.tpm
        self._rpm = limits.rpm
        self._estimate = estimate or chat_estimator()

    @property
    def label(self) -> str:
        return self.inner.label

    def plan(self, ctx: PlanContext) -> Plan:
        estimate = float(self._estimate(ctx))
        why = self._limits.never_fits(estimate)
        if why is not None:
            raise PlannerError(f"{why}: it can never be sent, so the run stops here")
        wanted = min(estimate, self._tpm.capacity)
        grant = self._limiter.try_acquire_all(
            [(self._rpm, 1.0), (self._tpm, wanted)], party=ctx.tenant
        )
        if not grant.granted:
            raise BudgetSpent(
                f"model deployment budget spent ({self._tpm.name}); tenant "
                f"{ctx.tenant or 'default'}'s turn in {grant.retry_after:.1f} s",
                retry_after=grant.retry_after,
            )
        try:
            plan = self.inner.plan(ctx)
        except PlannerError:
            self._limiter.refund(self._tpm, wanted)  # a refused request used no tokens
            raise
        self._limiter.reconcile(self._tpm, wanted, float(plan.usage.total_tokens))
        return plan


def deployment_limits(settings: LimitSettings) -> DeploymentLimits | None:
    """The limits of ``PADDOCK_LLM_TPM`` / ``PADDOCK_LLM_RPM`` (per minute; one alone leaves
    the other unlimited) on the buckets of ``PADDOCK_LLM_DEPLOYMENT``; ``None`` when neither
    is set."""
    tpm, rpm = settings.llm_tpm, settings.llm_rpm
    if tpm is None and rpm is None and settings.llm_context_tokens is None:
        return None
    return DeploymentLimits(
        settings.llm_deployment,
        tokens_per_minute=UNLIMITED if tpm is None else tpm,
        requests_per_minute=UNLIMITED if rpm is None else rpm,
        context_tokens=settings.llm_context_tokens,
    )


def limited_planners(
    planners: Callable[[Run], Planner], store: RunStore, settings: LimitSettings
) -> Callable[[Run], Planner]:
    """Wrap every model-backed planner (not the offline ``rules`` one) in the shared limits
    of ``settings``; without limits there, ``planners`` unchanged."""
    limits = deployment_limits(settings)
    if limits is None:
        return planners
    limiter = RateLimiter(store)
    wrapped: dict[int, Planner] = {}

    def provide(run: Run) -> Planner:
        inner = planners(run)
        if run.planner == "rules":
            return inner
        found = wrapped.get(id(inner))
        if found is None:
            found = wrapped[id(inner)] = RateLimitedPlanner(inner, limiter, limits)
        return found

    return provide
