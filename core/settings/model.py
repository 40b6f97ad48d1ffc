"""The model that plans: which planner, how to reach OpenAI, Azure OpenAI, Amazon Bedrock or
Anthropic, what tokens cost, and how much of a large catalog the model is shown.

Names are the ones the planner reads, and the ones the Pulumi program sets (``paddock:llmModel``
becomes ``OPENAI_MODEL`` or ``AZURE_OPENAI_DEPLOYMENT``; ``tests/infra/test_settings_contract.py``
holds the two together).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from core.errors import ConfigError
from core.settings._base import EnvGroup, Lowered

LlmKind = Literal["rules", "openai", "azure-openai", "bedrock", "anthropic"]
LLM_CHOICES: tuple[LlmKind, ...] = ("rules", "openai", "azure-openai", "bedrock", "anthropic")
DEFAULT_OPENAI_MODEL = "gpt-4o-mini"
DEFAULT_AZURE_API_VERSION = "2024-10-21"
DEFAULT_SEARCH_THRESHOLD = 64
DEFAULT_SEARCH_TOP_K = 12
MODEL_FIELDS: dict[str, str] = {
    "openai": "openai_model",
    "azure-openai": "azure_openai_deployment",
    "bedrock": "bedrock_model_id",
    "anthropic": "anthropic_model",
}
"""The field that names the model of each model-backed planner (what ``--model`` sets)."""


class ModelSettings(EnvGroup):
    """The planner of API runs and how its model is reached (``core.planner``)."""

    llm: Annotated[LlmKind, Lowered] = Field(default="rules", validation_alias="PADDOCK_LLM")
    """PADDOCK_LLM: the planner of runs that name none: ``rules`` (offline), ``openai``,
    ``azure-openai``, ``bedrock`` or ``anthropic``."""
    openai_api_key: str | None = Field(default=None, validation_alias="OPENAI_API_KEY", repr=False)
    """OPENAI_API_KEY: the key for ``openai`` (any value for a local OpenAI-compatible
    server)."""
    openai_base_url: str | None = Field(default=None, validation_alias="OPENAI_BASE_URL")
    """OPENAI_BASE_URL: an OpenAI-compatible server (unset: OpenAI's API)."""
    openai_model: str = Field(default=DEFAULT_OPENAI_MODEL, validation_alias="OPENAI_MODEL")
    """OPENAI_MODEL: the model ``openai`` calls."""
    azure_openai_endpoint: str | None = Field(
        default=None, validation_alias="AZURE_OPENAI_ENDPOINT"
    )
    """AZURE_OPENAI_ENDPOINT: the Azure OpenAI resource (required for ``azure-openai``)."""
    azure_openai_deployment: str | None = Field(
        default=None, validation_alias="AZURE_OPENAI_DEPLOYMENT"
    )
    """AZURE_OPENAI_DEPLOYMENT: the deployment ``azure-openai`` calls (required for it)."""
    azure_openai_api_version: str = Field(
        default=DEFAULT_AZURE_API_VERSION, validation_alias="AZURE_OPENAI_API_VERSION"
    )
    """AZURE_OPENAI_API_VERSION: the Azure OpenAI API version."""
    azure_openai_api_key: str | None = Field(
        default=None, validation_alias="AZURE_OPENAI_API_KEY", repr=False
    )
    """AZURE_OPENAI_API_KEY: a key for Azure OpenAI; unset: an Entra ID token from
    ``DefaultAzureCredential`` (the managed identity in the cloud)."""
    azure_openai_model: str | None = Field(default=None, validation_alias="AZURE_OPENAI_MODEL")
    """AZURE_OPENAI_MODEL: the model behind the deployment, to price its tokens."""
    bedrock_model_id: str | None = Field(default=None, validation_alias="BEDROCK_MODEL_ID")
    """BEDROCK_MODEL_ID: the model id, inference profile id or ARN ``bedrock`` calls through
    the Converse API (required for it), e.g. ``us.anthropic.claude-haiku-4-5-20251001-v1:0``.
    The region is the process's AWS region (``AWS_REGION``, see the identity settings),
    credentials come from the standard AWS chain (the worker role in the cloud)."""
    bedrock_endpoint_url: str | None = Field(
        default=None, validation_alias="AWS_ENDPOINT_URL_BEDROCK_RUNTIME"
    )
    """AWS_ENDPOINT_URL_BEDROCK_RUNTIME: another Bedrock Runtime endpoint (a VPC endpoint, a
    proxy, a local server), as boto3 reads it."""
    anthropic_api_key: str | None = Field(
        default=None, validation_alias="ANTHROPIC_API_KEY", repr=False
    )
    """ANTHROPIC_API_KEY: the key for ``anthropic`` (required for it)."""
    anthropic_base_url: str | None = Field(default=None, validation_alias="ANTHROPIC_BASE_URL")
    """ANTHROPIC_BASE_URL: an Anthropic-compatible server (unset: Anthropic's API)."""
    anthropic_model: str | None = Field(default=None, validation_alias="ANTHROPIC_MODEL")
    """ANTHROPIC_MODEL: the model ``anthropic`` calls (required for it), e.g.
    ``claude-haiku-4-5``."""
    price_table: str | None = Field(default=None, validation_alias="PADDOCK_PRICE_TABLE")
    """PADDOCK_PRICE_TABLE: a JSON or YAML price file laid over the default prices."""
    tool_search_threshold: int = Field(
        default=DEFAULT_SEARCH_THRESHOLD, ge=1, validation_alias="PADDOCK_TOOL_SEARCH_THRESHOLD"
    )
    """PADDOCK_TOOL_SEARCH_THRESHOLD: catalogs with at most this many tools are shown to the
    model whole; larger ones are narrowed, with a ``search_tools`` tool."""
    tool_search_top_k: int = Field(
        default=DEFAULT_SEARCH_TOP_K, ge=1, validation_alias="PADDOCK_TOOL_SEARCH_TOP_K"
    )
    """PADDOCK_TOOL_SEARCH_TOP_K: how many ranked tools a narrowed catalog shows."""

    def with_model(self, llm: str, model: str) -> ModelSettings:
        """These settings with ``model`` as the model of planner ``llm`` (``OPENAI_MODEL``,
        ``AZURE_OPENAI_DEPLOYMENT``, ``BEDROCK_MODEL_ID`` or ``ANTHROPIC_MODEL``).

        Raises ``ConfigError`` for a planner without a model (``rules``) or a blank name.
        """
        field = MODEL_FIELDS.get(llm)
        if field is None:
            raise ConfigError(
                f"--model does not apply to --llm {llm}: it names the model of "
                f"{', '.join(MODEL_FIELDS)}"
            )
        if not model.strip():
            raise ConfigError("--model must not be empty")
        return self.model_copy(update={field: model.strip()})
