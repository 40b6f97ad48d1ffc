"""One error root for Paddock, with a few families that carry structured fields.

Control-flow signals (approval required, retry the model) are not errors; they are data
on the step (see ``core.domain``).
"""

from __future__ import annotations


class PaddockError(Exception):
    """Root of every error Paddock raises on purpose.

    Attributes:
        retryable: whether the same operation may succeed if tried again.
        retry_after: seconds to wait before a retry, when known.
    """

    retryable: bool = False

    def __init__(
        self, message: str, *, retryable: bool | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        if retryable is not None:
            self.retryable = retryable
        self.retry_after = retry_after


class ConfigError(PaddockError):
    """Bad configuration or bad user input (a flag, a file, an environment variable)."""


class SpecError(PaddockError):
    """An API specification could not be read or understood."""


class NotFoundError(PaddockError):
    """A run, step, approval or tool that was asked for does not exist."""


class ConflictError(PaddockError):
    """A stale write: somebody else changed the record since it was read.

    Raised by every ``RunStore`` backend alike, whatever the vendor error underneath.
    """

    retryable = True


class PlannerError(PaddockError):
    """The planner (an LLM or the rule planner) could not produce a plan."""


class NoToolCalled(PlannerError):
    """The model answered in text without ever calling a tool, although tools were offered
    and the run has called none yet: its answer is made up, not a result. Typical of a model
    or server without tool calling (or one that dropped the tools from the prompt)."""


class ExecutionError(PaddockError):
    """A tool call could not be executed (network, timeout, refused target)."""

    def __init__(
        self,
        message: str,
        *,
        retryable: bool | None = None,
        retry_after: float | None = None,
        status_code: int | None = None,
    ) -> None:
        super().__init__(message, retryable=retryable, retry_after=retry_after)
        self.status_code = status_code


class BackendError(PaddockError):
    """A state or queue backend failed for a reason other than a conflict."""

    retryable = True


class BudgetSpent(PaddockError):
    """No budget now: a shared rate limit is spent, or a service or the model answered
    429/503 with Retry-After; try again after ``retry_after`` seconds. Not a failure.

    The engine reports a throttle as data (``core.orchestrator.outcome.Throttled``); this
    signal is for places with no other channel: a planner wrapper whose shared model budget is
    spent (``core.ratelimit.llm``; the engine turns it into that outcome, it never escapes
    ``advance``), and in-process callers with no queue to wait on (the CLI)."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message, retryable=True, retry_after=retry_after)
        self.wait = max(0.0, retry_after)
