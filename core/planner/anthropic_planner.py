"""The Anthropic planner: the Messages API with tool use, through the ``anthropic`` SDK.

One request is ``messages.create(model=..., system=..., messages=..., tools=...)``; the model's
``tool_use`` blocks are the plan's calls and the next request carries their outcomes as
``tool_result`` blocks. ``ANTHROPIC_API_KEY``, ``ANTHROPIC_BASE_URL`` and ``ANTHROPIC_MODEL``
configure it. The SDK is an optional extra (``pip install 'paddock[anthropic]'``), imported only
when a client is built or an error is read. Its own retries are off: 429s (with their
``retry-after``), 529 "overloaded" and server faults are retried and deferred by
``WirePlanner``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.errors import ConfigError, PlannerError
from core.planner._convert import anthropic_messages, anthropic_tools, to_turns
from core.planner._reading import WireReply, wire_call
from core.planner._wire import Throttle, WirePlanner, one_line
from core.planner.pricing import PriceTable
from core.retry import retry_after_header
from core.settings import ModelSettings

if TYPE_CHECKING:
    from anthropic import Anthropic

__all__ = ["AnthropicPlanner", "from_settings"]

_RETRY_STATUS = frozenset({408, 409, 429})


class AnthropicPlanner(WirePlanner):
    """A ``Planner`` on Anthropic's Messages API.

    Args:
        client: an ``anthropic.Anthropic`` client (its retries are turned off here).
        model: the model, e.g. ``claude-haiku-4-5``.
        timeout: seconds for one request.
        options: see ``WirePlanner``; ``temperature`` defaults to ``None`` (the model's).
    """

    label_prefix = "anthropic"

    def __init__(self, client: Anthropic, model: str, *, timeout: float = 60.0, **options: Any):
        # Recent SDKs take no sampling parameters (recent models fix them): a temperature is
        # sent only when asked for, in the body.
        options.setdefault("temperature", None)
        super().__init__(model, **options)
        self._client = client.with_options(max_retries=0, timeout=timeout)

    def _send(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> WireReply:
        system, turns = to_turns(messages)
        request: dict[str, Any] = {
            "model": self.model,
            "max_tokens": self.max_tokens,
            "messages": anthropic_messages(turns),
            "tools": anthropic_tools(tools),
            "tool_choice": {"type": "auto"},
        }
        if system:
            request["system"] = system
        if self.temperature is not None:
            request["extra_body"] = {"temperature": self.temperature}
        return _reply(self._client.messages.create(**request))

    def _fault(self, exc: Exception) -> PlannerError | None:
        import anthropic

        url = str(self._client.base_url).rstrip("/")
        if isinstance(exc, anthropic.APITimeoutError):
            return PlannerError(f"the model at {url} did not answer in time", retryable=True)
        if isinstance(exc, anthropic.APIConnectionError):
            cause = one_line(str(exc.__cause__ or exc))
            return PlannerError(f"cannot reach the model at {url}: {cause}", retryable=True)
        if isinstance(exc, anthropic.APIStatusError):
            return _status_error(exc, url, self.model)
        if isinstance(exc, anthropic.AnthropicError):
            return PlannerError(f"unexpected answer from the model at {url}: {one_line(str(exc))}")
        return None


def _reply(response: Any) -> WireReply:
    texts: list[str] = []
    calls = []
    for block in getattr(response, "content", None) or []:
        kind = getattr(block, "type", None)
        if kind == "text" and isinstance(getattr(block, "text", None), str):
            texts.append(block.text)
        elif kind == "tool_use":
            calls.append(
                wire_call(
                    getattr(block, "id", ""),
                    getattr(block, "name", ""),
                    getattr(block, "input", None),
                )
            )
    stop = str(getattr(response, "stop_reason", "") or "")
    usage = getattr(response, "usage", None)
    prompt = sum(
        int(getattr(usage, name, 0) or 0)
        for name in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
    )
    return WireReply(
        text="\n".join(texts) or None,
        calls=calls,
        cut_off=stop == "max_tokens",
        refusal="the model declined the request" if stop == "refusal" else None,
        model=getattr(response, "model", None),
        prompt_tokens=prompt,
        completion_tokens=int(getattr(usage, "output_tokens", 0) or 0),
    )


def _status_error(exc: Any, url: str, model: str) -> PlannerError:
    status = int(exc.status_code)
    headers = getattr(getattr(exc, "response", None), "headers", None)
    wait = None if headers is None else retry_after_header(headers)
    body = getattr(exc, "body", None)
    error = body.get("error") if isinstance(body, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    detail = f"HTTP {status}: {one_line(str(message or getattr(exc, 'message', '') or ''))}"
    if status == 429:
        return Throttle(
            f"the model at {url} is rate limiting requests ({detail})", retry_after=wait
        )
    if status in _RETRY_STATUS or status >= 500:
        return PlannerError(
            f"the model at {url} failed ({detail})", retryable=True, retry_after=wait
        )
    if status in (401, 403):
        return PlannerError(f"the model at {url} refused the credentials ({detail})")
    if status == 404:
        return PlannerError(f"the model {model!r} was not found at {url} ({detail})")
    return PlannerError(f"the model at {url} rejected the request ({detail})")


def from_settings(settings: ModelSettings, **options: Any) -> AnthropicPlanner:
    """An ``AnthropicPlanner`` from ``ANTHROPIC_API_KEY``, ``ANTHROPIC_MODEL`` and (optional)
    ``ANTHROPIC_BASE_URL``, priced with ``PADDOCK_PRICE_TABLE``. ``options`` go to
    ``AnthropicPlanner``.

    Raises ``ConfigError`` when the key, the model or the SDK is missing.
    """
    if settings.anthropic_api_key is None:
        raise ConfigError(
            "ANTHROPIC_API_KEY is not set: export it (any value for a local "
            "Anthropic-compatible server) or use --llm rules"
        )
    if not settings.anthropic_model:
        raise ConfigError(
            "ANTHROPIC_MODEL is not set: export it or pass --model (e.g. claude-haiku-4-5)"
        )
    try:
        from anthropic import Anthropic
    except ImportError as exc:
        raise ConfigError(
            "the anthropic SDK is not installed: pip install 'paddock[anthropic]'"
        ) from exc
    client = Anthropic(
        api_key=settings.anthropic_api_key, base_url=settings.anthropic_base_url, max_retries=0
    )
    options.setdefault("price_table", PriceTable.from_settings(settings))
    return AnthropicPlanner(client, settings.anthropic_model, **options)
