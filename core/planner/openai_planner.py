"""The LLM planner: chat.completions with tools, through the ``openai`` SDK.

Works with OpenAI, with Azure OpenAI (``AzureOpenAI``, an API key or an Entra ID bearer
token) and with any OpenAI-compatible server. ``openai`` is imported only when a client is
built or a request is made: it costs about half a second of cold start.

Invalid tool calls are fed back to the model as error tool results and it is asked again, at
most ``max_retries_invalid`` times in one ``plan()``. What happens when the model is still
wrong after that:

* unknown tool names and schema-invalid arguments are returned as the model asked them, in
  ``Plan.calls``; the guardrails deny them (unknown tool, schema check), the denial is
  recorded on the step and shown to the model at the next step;
* arguments that are not a JSON object raise ``PlannerError``: there is no call to judge, and
  inventing arguments would be unsafe.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from core.catalog.export import to_openai_tools
from core.domain import Plan, Tool, Usage
from core.errors import ConfigError, PlannerError
from core.planner._openai_calls import complete
from core.planner._reading import WireReply, read_reply, wire_call
from core.planner.base import PlanContext
from core.planner.messages import SYSTEM_PROMPT, build_messages, help_tool
from core.planner.pricing import PriceTable
from core.settings import ModelSettings
from core.settings.model import DEFAULT_AZURE_API_VERSION
from core.settings.model import DEFAULT_OPENAI_MODEL as DEFAULT_MODEL

if TYPE_CHECKING:
    from openai import AzureOpenAI, OpenAI
    from openai.types.chat import ChatCompletion

__all__ = [
    "AZURE_SCOPE",
    "DEFAULT_AZURE_API_VERSION",
    "DEFAULT_MODEL",
    "OpenAIPlanner",
    "azure_client",
    "azure_from_env",
    "azure_from_settings",
    "entra_token_provider",
    "from_env",
    "from_settings",
]

log = logging.getLogger(__name__)

AZURE_SCOPE = "https://cognitiveservices.azure.com/.default"


class OpenAIPlanner:
    """A ``Planner`` backed by a chat.completions model with function calling.

    Args:
        client: an ``openai.OpenAI`` or ``openai.AzureOpenAI`` client (for Azure, ``model``
            is the deployment name).
        model: the model (or deployment) to call.
        max_retries_invalid: how many times one ``plan()`` asks the model again after an
            invalid tool call (malformed JSON, unknown tool, schema-invalid arguments).
        temperature: sampling temperature; ``None`` leaves it out (for models that refuse it).
        system_prompt: replaces the default rules (``core.planner.messages.SYSTEM_PROMPT``).
        price_table: prices for the cost in ``Plan.usage``; default: ``PriceTable()`` (the
            built-in prices; the factories lay ``PADDOCK_PRICE_TABLE`` over them).
        max_retries: retries of one request on 408/409/429/5xx and connection errors.
        max_retry_wait: the longest Retry-After honoured by waiting; a longer one raises
            ``PlannerError(retryable=True, retry_after=...)`` at once.
        timeout: seconds for one request.
        label_prefix: how the planner names itself (``openai:<model>``).
        require_tool_call: while the run has called no tool, a text answer is not final: the
            model is asked again to use the tools, then ``NoToolCalled`` is raised
            (``core.planner._reading``).
        sleep: the wait between retries (injectable for tests).

    Every request that offers tools says ``tool_choice: "auto"``: OpenAI assumes it, but
    llama.cpp's and vLLM's servers leave the tools out of the prompt without it.
    """

    def __init__(
        self,
        client: OpenAI,
        model: str,
        *,
        max_retries_invalid: int = 2,
        temperature: float | None = 0,
        system_prompt: str | None = None,
        price_table: PriceTable | None = None,
        max_retries: int = 2,
        max_retry_wait: float = 20.0,
        timeout: float = 60.0,
        label_prefix: str = "openai",
        require_tool_call: bool = True,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_retries_invalid < 0 or max_retries < 0:
            raise ConfigError("max_retries_invalid and max_retries must be >= 0")
        self._client = client.with_options(max_retries=0, timeout=timeout)
        self.model = model
        self.max_retries_invalid = max_retries_invalid
        self.temperature = temperature
        self.system_prompt = system_prompt or SYSTEM_PROMPT
        self.prices = price_table if price_table is not None else PriceTable()
        self.max_retries = max_retries
        self.max_retry_wait = max_retry_wait
        self._label = f"{label_prefix}:{model}"
        self.require_tool_call = require_tool_call
        self._sleep = sleep

    @property
    def label(self) -> str:
        return self._label

    def plan(self, ctx: PlanContext) -> Plan:
        """Ask the model for the next move; raises ``PlannerError`` when it cannot answer."""
        tools = {tool.name: tool for tool in ctx.tools}
        request: dict[str, Any] = {
            "model": self.model,
            "messages": build_messages(ctx, self.system_prompt),
            "tools": [*to_openai_tools(ctx.tools), help_tool()],
            "tool_choice": "auto",
        }
        if self.temperature is not None:
            request["temperature"] = self.temperature
        require = self.require_tool_call and bool(ctx.tools)
        require = require and not any(step.calls for step in ctx.steps)
        usage = Usage()
        for attempt in range(self.max_retries_invalid + 1):
            response = self._complete(request)
            usage = usage.add(self._usage(response))
            last = attempt == self.max_retries_invalid
            plan, feedback = self._read(response, tools, last=last, require_tool=require)
            if plan is not None:
                return plan.model_copy(
                    update={"usage": usage, "model": response.model or self.model}
                )
            # A model that tried a call (even an invalid one) sees the tools.
            tried = bool(response.choices and response.choices[0].message.tool_calls)
            require = require and not tried
            request["messages"] = [*request["messages"], *feedback]
        raise AssertionError("unreachable: the last attempt always returns or raises")

    # -- one round trip ---------------------------------------------------------------------

    def _complete(self, request: dict[str, Any]) -> ChatCompletion:
        return complete(
            self._client,
            request,
            retries=self.max_retries,
            max_wait=self.max_retry_wait,
            sleep=self._sleep,
        )

    def _usage(self, response: ChatCompletion) -> Usage:
        if response.usage is None:
            return Usage()
        prompt = response.usage.prompt_tokens or 0
        completion = response.usage.completion_tokens or 0
        priced = (
            response.model
            if response.model and self.prices.is_known(response.model)
            else self.model
        )
        return Usage(
            prompt_tokens=prompt,
            completion_tokens=completion,
            cost_usd=self.prices.cost_usd(priced, prompt, completion),
        )

    def _read(
        self,
        response: ChatCompletion,
        tools: Mapping[str, Tool],
        *,
        last: bool,
        require_tool: bool,
    ) -> tuple[Plan | None, list[dict[str, Any]]]:
        """A plan, or (when the reply is invalid and retries remain) the feedback messages."""
        if not response.choices:
            raise PlannerError(f"the model {self.model!r} returned no choices")
        choice = response.choices[0]
        message = choice.message
        calls = []
        for call in message.tool_calls or []:
            function = getattr(call, "function", None)  # custom (non-function) tools have none
            if function is not None:
                calls.append(wire_call(call.id, function.name, function.arguments))
        reply = WireReply(
            text=message.content,
            calls=calls,
            cut_off=choice.finish_reason == "length",
            refusal=getattr(message, "refusal", None),
        )
        return read_reply(reply, tools, model=self.model, last=last, require_tool=require_tool)


# -- factories --------------------------------------------------------------------------------


def from_settings(settings: ModelSettings, **options: Any) -> OpenAIPlanner:
    """An ``OpenAIPlanner`` from ``OPENAI_API_KEY``, ``OPENAI_BASE_URL`` (optional: OpenAI's
    API) and ``OPENAI_MODEL`` (default ``gpt-4o-mini``), priced with ``PADDOCK_PRICE_TABLE``.
    ``options`` go to ``OpenAIPlanner``.

    Raises ``ConfigError`` when the key is missing or the price file is unreadable.
    """
    if settings.openai_api_key is None:
        raise ConfigError(
            "OPENAI_API_KEY is not set: export it (any value for a local "
            "OpenAI-compatible server) or use --llm rules"
        )
    from openai import OpenAI

    client = OpenAI(
        api_key=settings.openai_api_key, base_url=settings.openai_base_url, max_retries=0
    )
    options.setdefault("price_table", PriceTable.from_settings(settings))
    return OpenAIPlanner(client, settings.openai_model, **options)


def azure_from_settings(
    settings: ModelSettings,
    *,
    token_provider: Callable[[], str] | None = None,
    **options: Any,
) -> OpenAIPlanner:
    """An ``OpenAIPlanner`` on Azure OpenAI from ``AZURE_OPENAI_ENDPOINT``,
    ``AZURE_OPENAI_DEPLOYMENT``, ``AZURE_OPENAI_API_VERSION`` (default
    ``2024-10-21``) and ``AZURE_OPENAI_API_KEY``, or, without a key, an Entra ID token from
    ``DefaultAzureCredential`` (managed identity in the cloud), created at the first request.
    ``AZURE_OPENAI_MODEL`` optionally names the deployed model for pricing.

    Raises ``ConfigError`` when the endpoint or deployment is missing or the price file
    (``PADDOCK_PRICE_TABLE``) is unreadable.
    """
    endpoint, deployment = settings.azure_openai_endpoint, settings.azure_openai_deployment
    if endpoint is None or deployment is None:
        missing = [
            name
            for name, value in (
                ("AZURE_OPENAI_ENDPOINT", endpoint),
                ("AZURE_OPENAI_DEPLOYMENT", deployment),
            )
            if value is None
        ]
        raise ConfigError(
            f"{' and '.join(missing)} not set: Azure OpenAI needs the resource "
            "endpoint and the deployment name"
        )
    key = settings.azure_openai_api_key
    client = azure_client(
        endpoint=endpoint,
        deployment=deployment,
        api_version=settings.azure_openai_api_version,
        api_key=key,
        token_provider=None if key else token_provider or entra_token_provider(),
    )
    options.setdefault("label_prefix", "azure-openai")
    options.setdefault("price_table", PriceTable.from_settings(settings))
    planner = OpenAIPlanner(client, deployment, **options)
    priced = settings.azure_openai_model
    if priced:
        planner.prices = _aliased(planner.prices, deployment, priced)
    return planner


def from_env(env: Mapping[str, str] | None = None, **options: Any) -> OpenAIPlanner:
    """:func:`from_settings` with the settings read from ``env`` (default: the process
    environment)."""
    return from_settings(ModelSettings.from_env(env), **options)


def azure_from_env(
    env: Mapping[str, str] | None = None,
    *,
    token_provider: Callable[[], str] | None = None,
    **options: Any,
) -> OpenAIPlanner:
    """:func:`azure_from_settings` with the settings read from ``env`` (default: the process
    environment)."""
    return azure_from_settings(
        ModelSettings.from_env(env), token_provider=token_provider, **options
    )


def azure_client(
    *,
    endpoint: str,
    deployment: str,
    api_version: str,
    api_key: str | None = None,
    token_provider: Callable[[], str] | None = None,
) -> AzureOpenAI:
    """An ``AzureOpenAI`` client on one deployment, with a key or a bearer-token provider."""
    from openai import AzureOpenAI

    if api_key:
        return AzureOpenAI(
            azure_endpoint=endpoint,
            azure_deployment=deployment,
            api_version=api_version,
            api_key=api_key,
            max_retries=0,
        )
    return AzureOpenAI(
        azure_endpoint=endpoint,
        azure_deployment=deployment,
        api_version=api_version,
        azure_ad_token_provider=token_provider,
        max_retries=0,
    )


def entra_token_provider(scope: str = AZURE_SCOPE) -> Callable[[], str]:
    """A bearer-token provider over ``DefaultAzureCredential``, built at its first call."""
    provider: list[Callable[[], str]] = []

    def token() -> str:
        try:
            if not provider:
                from azure.identity import DefaultAzureCredential, get_bearer_token_provider

                provider.append(get_bearer_token_provider(DefaultAzureCredential(), scope))
            return provider[0]()
        except ImportError as exc:
            raise ConfigError(
                "azure-identity is not installed: pip install azure-identity, "
                "or set AZURE_OPENAI_API_KEY"
            ) from exc
        except Exception as exc:  # azure-identity raises several unrelated types
            raise PlannerError(
                f"cannot get an Entra ID token for Azure OpenAI: {' '.join(str(exc).split())[:300]}"
            ) from exc

    return token


def _aliased(table: PriceTable, deployment: str, model: str) -> PriceTable:
    price = table.lookup(model)
    if price is None:
        return table
    return PriceTable({**table.prices, deployment: price})
