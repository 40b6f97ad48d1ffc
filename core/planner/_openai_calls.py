"""One chat.completions request with bounded retries, and openai errors as ``PlannerError``.

The planner retries here rather than in the SDK (which it runs with ``max_retries=0``): the
SDK honours a Retry-After of up to two minutes, which would park a serverless worker; here a
Retry-After above ``max_wait`` ends the attempt at once with ``PlannerError(retryable=True,
retry_after=...)``, so the run can be rescheduled instead.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from core.errors import PlannerError
from core.retry import next_wait, retry_after_header

if TYPE_CHECKING:
    from openai import OpenAI
    from openai.types.chat import ChatCompletion

log = logging.getLogger(__name__)

_RETRY_STATUS = frozenset({408, 409, 429})
_BACKOFF_START = 0.5
_BACKOFF_MAX = 8.0
_DETAIL_CHARS = 300


def complete(
    client: OpenAI,
    request: dict[str, Any],
    *,
    retries: int,
    max_wait: float,
    sleep: Callable[[float], None] = time.sleep,
) -> ChatCompletion:
    """``client.chat.completions.create(**request)``, retried on 408/409/429/5xx and
    connection errors, honouring Retry-After up to ``max_wait`` seconds.

    Raises ``PlannerError`` (retryable for throttling, server and network faults).
    """
    import openai

    attempt = 0
    while True:
        attempt += 1
        try:
            response: ChatCompletion = client.chat.completions.create(**request)
            return response
        except openai.APIStatusError as exc:
            if not retryable_status(exc.status_code):
                raise translate(exc, client, model=request.get("model")) from exc
            error: openai.APIError = exc
        except openai.APIConnectionError as exc:
            error = exc
        except openai.OpenAIError as exc:
            raise translate(exc, client, model=request.get("model")) from exc
        wait = _retry_after(error)
        delay = next_wait(
            attempt,
            attempts=retries + 1,
            retry_after=wait,
            max_wait=max_wait,
            base=_BACKOFF_START,
            cap=_BACKOFF_MAX,
        )
        if delay is None:
            raise translate(error, client, model=request.get("model"), retry_after=wait) from error
        log.info(
            "model request failed (%s); retry %d of %d in %.2f s",
            type(error).__name__,
            attempt,
            retries,
            delay,
        )
        sleep(delay)


def retryable_status(status: int) -> bool:
    return status in _RETRY_STATUS or status >= 500


def _retry_after(exc: BaseException) -> float | None:
    """Seconds the server asked to wait (``retry-after-ms``, then ``retry-after``)."""
    headers = getattr(getattr(exc, "response", None), "headers", None)
    return None if headers is None else retry_after_header(headers)


def translate(
    exc: Exception, client: OpenAI, *, model: Any = None, retry_after: float | None = None
) -> PlannerError:
    """One clear line naming the model's URL, with ``retryable`` set from the kind of fault."""
    import openai

    url = str(client.base_url).rstrip("/")
    if isinstance(exc, openai.APITimeoutError):
        return PlannerError(f"the model at {url} did not answer in time", retryable=True)
    if isinstance(exc, openai.APIConnectionError):
        cause = _one_line(str(exc.__cause__ or exc))
        return PlannerError(f"cannot reach the model at {url}: {cause}", retryable=True)
    if isinstance(exc, openai.APIStatusError):
        return _status_error(exc, url, model, retry_after)
    return PlannerError(f"unexpected answer from the model at {url}: {_one_line(str(exc))}")


def _status_error(exc: Any, url: str, model: Any, retry_after: float | None) -> PlannerError:
    status = int(exc.status_code)
    detail = f"HTTP {status}: {_detail(exc)}"
    if status == 429:
        return PlannerError(
            f"the model at {url} is rate limiting requests ({detail})",
            retryable=True,
            retry_after=retry_after,
        )
    if retryable_status(status):
        return PlannerError(
            f"the model at {url} failed ({detail})", retryable=True, retry_after=retry_after
        )
    if status in (401, 403):
        return PlannerError(f"the model at {url} refused the credentials ({detail})")
    if status == 404:
        return PlannerError(f"the model {model!r} was not found at {url} ({detail})")
    return PlannerError(f"the model at {url} rejected the request ({detail})")


def _detail(exc: Any) -> str:
    body = getattr(exc, "body", None)
    message = body.get("message") if isinstance(body, dict) else None
    return _one_line(str(message or getattr(exc, "message", "") or type(exc).__name__))


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _DETAIL_CHARS else text[:_DETAIL_CHARS] + "..."
