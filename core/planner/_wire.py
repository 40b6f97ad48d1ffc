"""What the Bedrock and Anthropic planners share: the plan loop and bounded retries.

``WirePlanner`` holds the logic once (history, tools, invalid-call feedback, usage and cost);
each backend implements two primitives: ``_send`` (one request on its wire, as a
``WireReply``) and ``_fault`` (its SDK's exceptions as a ``PlannerError``, or ``None`` for an
exception it does not know).

Retries happen here, not in the SDKs (which run with retries off), for the reason given in
``core.planner._openai_calls``: a long Retry-After ends the attempt with
``PlannerError(retryable=True, retry_after=...)`` so the run is deferred, not the worker parked.
A throttle without Retry-After (Bedrock's ``ThrottlingException`` carries none) is deferred by
``throttle_delay`` seconds once the retries are spent.
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

from core.catalog.export import to_openai_tools
from core.domain import Plan, Usage
from core.errors import ConfigError, PlannerError
from core.planner._reading import WireReply, read_reply
from core.planner.base import PlanContext
from core.planner.messages import SYSTEM_PROMPT, build_messages, help_tool
from core.planner.pricing import PriceTable
from core.retry import next_wait

__all__ = ["DEFAULT_MAX_TOKENS", "Throttle", "WirePlanner", "one_line"]

log = logging.getLogger(__name__)

DEFAULT_MAX_TOKENS = 1024
_BACKOFF_START = 0.5
_BACKOFF_MAX = 8.0
_DETAIL_CHARS = 300


class Throttle(PlannerError):
    """The model's service is throttling (HTTP 429, ``ThrottlingException``): retryable, and
    deferred by the planner's ``throttle_delay`` when the service names no Retry-After."""

    retryable = True


class WirePlanner(ABC):
    """A ``Planner`` over a model API other than chat.completions.

    Args:
        model: the model to call (a Bedrock model id, inference profile or ARN; an
            Anthropic model name).
        max_retries_invalid: how many times one ``plan()`` asks the model again after an
            unusable reply (invalid tool calls, an empty or cut-off answer, or text without
            any tool call in a run that has called none).
        temperature: sampling temperature; ``None`` leaves it out.
        max_tokens: the longest answer asked for.
        system_prompt: replaces the default rules (``core.planner.messages.SYSTEM_PROMPT``).
        price_table: prices for the cost in ``Plan.usage`` (default: ``PriceTable()``).
        max_retries: retries of one request on throttling, server and network faults.
        max_retry_wait: the longest Retry-After honoured by waiting; a longer one raises
            ``PlannerError(retryable=True, retry_after=...)`` at once.
        throttle_delay: the deferral of a throttle that names no Retry-After.
        require_tool_call: refuse a text answer while the run has called no tool (above).
        sleep: the wait between retries (injectable for tests).
    """

    label_prefix = "model"

    def __init__(
        self,
        model: str,
        *,
        max_retries_invalid: int = 2,
        temperature: float | None = 0,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        system_prompt: str | None = None,
        price_table: PriceTable | None = None,
        max_retries: int = 2,
        max_retry_wait: float = 20.0,
        throttle_delay: float = 15.0,
        require_tool_call: bool = True,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_retries_invalid < 0 or max_retries < 0 or max_tokens < 1:
            raise ConfigError("max_retries_invalid and max_retries must be >= 0, max_tokens >= 1")
        self.model = model
        self.max_retries_invalid = max_retries_invalid
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.system_prompt = system_prompt or SYSTEM_PROMPT
        self.prices = price_table if price_table is not None else PriceTable()
        self.max_retries = max_retries
        self.max_retry_wait = max_retry_wait
        self.throttle_delay = throttle_delay
        self.require_tool_call = require_tool_call
        self._sleep = sleep

    @property
    def label(self) -> str:
        return f"{self.label_prefix}:{self.model}"

    def plan(self, ctx: PlanContext) -> Plan:
        """Ask the model for the next move; raises ``PlannerError`` when it cannot answer."""
        tools = {tool.name: tool for tool in ctx.tools}
        specs = [*to_openai_tools(ctx.tools), help_tool()]
        messages = build_messages(ctx, self.system_prompt)
        require = self.require_tool_call and bool(ctx.tools)
        require = require and not any(step.calls for step in ctx.steps)
        usage = Usage()
        for attempt in range(self.max_retries_invalid + 1):
            reply = self._request(messages, specs)
            usage = usage.add(self._usage(reply))
            last = attempt == self.max_retries_invalid
            plan, feedback = read_reply(
                reply, tools, model=self.model, last=last, require_tool=require
            )
            if plan is not None:
                return plan.model_copy(update={"usage": usage, "model": reply.model or self.model})
            require = require and not reply.calls  # a model that tried a call sees the tools
            messages = [*messages, *feedback]
        raise AssertionError("unreachable: the last attempt always returns or raises")

    # -- the primitives each wire implements ------------------------------------------------

    @abstractmethod
    def _send(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> WireReply:
        """One request: ``messages`` and ``tools`` in the chat.completions shape."""

    @abstractmethod
    def _fault(self, exc: Exception) -> PlannerError | None:
        """``exc`` as a ``PlannerError`` (``retryable``/``retry_after`` set), or ``None``."""

    # -- shared ---------------------------------------------------------------------------

    def _request(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> WireReply:
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._send(messages, tools)
            except Exception as exc:
                error = self._fault(exc)
                if error is None:
                    raise
                cause: Exception = exc
            if not error.retryable:
                raise error from cause
            delay = next_wait(
                attempt,
                attempts=self.max_retries + 1,
                retry_after=error.retry_after,
                max_wait=self.max_retry_wait,
                base=_BACKOFF_START,
                cap=_BACKOFF_MAX,
            )
            if delay is None:
                if isinstance(error, Throttle) and error.retry_after is None:
                    error.retry_after = self.throttle_delay
                raise error from cause
            log.info("model request failed (%s); retry %d in %.2f s", error, attempt, delay)
            self._sleep(delay)

    def _usage(self, reply: WireReply) -> Usage:
        priced = reply.model if reply.model and self.prices.is_known(reply.model) else self.model
        return Usage(
            prompt_tokens=reply.prompt_tokens,
            completion_tokens=reply.completion_tokens,
            cost_usd=self.prices.cost_usd(priced, reply.prompt_tokens, reply.completion_tokens),
        )


def one_line(text: str) -> str:
    """``text`` on one line, at most a few hundred characters."""
    text = " ".join(text.split())
    return text if len(text) <= _DETAIL_CHARS else text[:_DETAIL_CHARS] + "..."
