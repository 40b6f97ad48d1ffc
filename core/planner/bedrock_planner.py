"""The Amazon Bedrock planner: the Bedrock Runtime Converse API with tool use, through boto3.

One request is ``converse(modelId=..., system=..., messages=..., toolConfig=...)``; the model's
``toolUse`` blocks are the plan's calls and the next request carries their outcomes as
``toolResult`` blocks. Any Converse model with tool use works (Claude, Llama, Mistral, Nova),
by model id, inference profile id or ARN. Credentials come from the standard AWS chain (the
worker role in the cloud); the region is the process's (``AWS_REGION``);
``AWS_ENDPOINT_URL_BEDROCK_RUNTIME``
points the client elsewhere (a VPC endpoint, a proxy, a local server), as boto3 reads it.

botocore's own retries are off: throttling (``ThrottlingException``, HTTP 429) and server
faults are retried and deferred by ``WirePlanner`` like every model's 429.
"""

from __future__ import annotations

from typing import Any

from core.errors import ConfigError, PlannerError
from core.planner._convert import bedrock_messages, bedrock_tools, to_turns
from core.planner._reading import WireReply, wire_call
from core.planner._wire import Throttle, WirePlanner, one_line
from core.planner.pricing import PriceTable
from core.retry import retry_after_header
from core.settings import ModelSettings

__all__ = ["BedrockPlanner", "bedrock_client", "from_settings"]

_THROTTLES = frozenset({"ThrottlingException", "TooManyRequestsException"})
_RETRYABLE = frozenset(
    {
        "ServiceUnavailableException",
        "InternalServerException",
        "ModelNotReadyException",
        "ModelTimeoutException",
    }
)
_REFUSALS = frozenset({"guardrail_intervened", "content_filtered"})


class BedrockPlanner(WirePlanner):
    """A ``Planner`` on the Bedrock Converse API.

    Args:
        client: a boto3 ``bedrock-runtime`` client (best with botocore's retries off:
            :func:`bedrock_client`).
        model: a model id, inference profile id or ARN.
        options: see ``WirePlanner``.
    """

    label_prefix = "bedrock"

    def __init__(self, client: Any, model: str, **options: Any) -> None:
        super().__init__(model, **options)
        self._client = client

    def _send(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> WireReply:
        system, turns = to_turns(messages)
        inference: dict[str, Any] = {"maxTokens": self.max_tokens}
        if self.temperature is not None:
            inference["temperature"] = self.temperature
        request: dict[str, Any] = {
            "modelId": self.model,
            "messages": bedrock_messages(turns),
            "toolConfig": {"tools": bedrock_tools(tools)},
            "inferenceConfig": inference,
        }
        if system:
            request["system"] = [{"text": system}]
        return _reply(self._client.converse(**request))

    def _fault(self, exc: Exception) -> PlannerError | None:
        from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
        from botocore.exceptions import ConnectionError as BotoConnectionError

        url = str(getattr(getattr(self._client, "meta", None), "endpoint_url", "bedrock"))
        if isinstance(exc, ClientError):
            return _client_error(exc, url, self.model)
        if isinstance(exc, BotoConnectionError | HTTPClientError):
            return PlannerError(
                f"cannot reach Bedrock at {url}: {one_line(str(exc))}", retryable=True
            )
        if isinstance(exc, BotoCoreError):  # no credentials, a request botocore refuses...
            return PlannerError(f"Bedrock at {url}: {one_line(str(exc))}")
        return None


def _reply(response: dict[str, Any]) -> WireReply:
    message = (response.get("output") or {}).get("message") or {}
    blocks = [b for b in message.get("content") or [] if isinstance(b, dict)]
    texts = [str(b["text"]) for b in blocks if isinstance(b.get("text"), str)]
    calls = [
        wire_call(use.get("toolUseId"), use.get("name"), use.get("input"))
        for b in blocks
        if isinstance(use := b.get("toolUse"), dict)
    ]
    stop = str(response.get("stopReason") or "")
    usage = response.get("usage") or {}
    return WireReply(
        text="\n".join(texts) or None,
        calls=calls,
        cut_off=stop == "max_tokens",
        refusal=f"the answer was stopped ({stop})" if stop in _REFUSALS else None,
        prompt_tokens=int(usage.get("inputTokens") or 0),
        completion_tokens=int(usage.get("outputTokens") or 0),
    )


def _client_error(exc: Any, url: str, model: str) -> PlannerError:
    error = exc.response.get("Error") or {}
    meta = exc.response.get("ResponseMetadata") or {}
    code = str(error.get("Code") or "")
    status = int(meta.get("HTTPStatusCode") or 0)
    headers = {str(k).lower(): str(v) for k, v in (meta.get("HTTPHeaders") or {}).items()}
    wait = retry_after_header(headers)
    detail = f"{code or 'HTTP ' + str(status)}: {one_line(str(error.get('Message') or ''))}"
    if code in _THROTTLES or status == 429:
        return Throttle(f"Bedrock at {url} is throttling requests ({detail})", retry_after=wait)
    if code in _RETRYABLE or status >= 500 or status == 408:
        return PlannerError(f"Bedrock at {url} failed ({detail})", retryable=True, retry_after=wait)
    if code in ("AccessDeniedException", "UnrecognizedClientException") or status in (401, 403):
        return PlannerError(
            f"Bedrock at {url} refused the credentials for {model!r} ({detail}); the role "
            "needs bedrock:InvokeModel on the model and the model access must be granted"
        )
    if code == "ResourceNotFoundException" or status == 404:
        return PlannerError(f"the model {model!r} was not found at Bedrock {url} ({detail})")
    return PlannerError(f"Bedrock at {url} rejected the request ({detail})")


# -- factories --------------------------------------------------------------------------------


def bedrock_client(
    *, region: str, endpoint_url: str | None = None, timeout: float = 60.0, session: Any = None
) -> Any:
    """A ``bedrock-runtime`` client with botocore's retries off (the planner retries).

    Raises ``ConfigError`` when the standard AWS chain finds no credentials.
    """
    import boto3
    from botocore.config import Config

    session = session or boto3.session.Session(region_name=region)
    if session.get_credentials() is None:
        raise ConfigError(
            "no AWS credentials found for Bedrock: configure the standard AWS chain "
            "(AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a role) or use --llm rules"
        )
    config = Config(
        region_name=region,
        retries={"total_max_attempts": 1, "mode": "standard"},
        connect_timeout=min(10.0, timeout),
        read_timeout=timeout,
    )
    return session.client("bedrock-runtime", endpoint_url=endpoint_url, config=config)


def from_settings(
    settings: ModelSettings, *, region: str | None = None, **options: Any
) -> BedrockPlanner:
    """A ``BedrockPlanner`` from ``BEDROCK_MODEL_ID`` and (optional)
    ``AWS_ENDPOINT_URL_BEDROCK_RUNTIME``, in ``region`` (the runtime passes the process's
    ``AWS_REGION``; ``None``: what boto3 finds, ``AWS_DEFAULT_REGION`` or the profile's), with
    credentials from the standard AWS chain, priced with ``PADDOCK_PRICE_TABLE``. ``options``
    go to ``BedrockPlanner``.

    Raises ``ConfigError`` when the model, the region or credentials are missing.
    """
    import boto3

    model = settings.bedrock_model_id
    if not model:
        raise ConfigError(
            "BEDROCK_MODEL_ID is not set: export it or pass --model (a model id, inference "
            "profile or ARN, e.g. us.anthropic.claude-haiku-4-5-20251001-v1:0)"
        )
    session = boto3.session.Session(region_name=region)
    if not session.region_name:
        raise ConfigError("AWS_REGION is not set: Bedrock needs the region of the model")
    client = bedrock_client(
        region=session.region_name, endpoint_url=settings.bedrock_endpoint_url, session=session
    )
    options.setdefault("price_table", PriceTable.from_settings(settings))
    return BedrockPlanner(client, model, **options)
