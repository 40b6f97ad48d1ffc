"""Typed stack configuration: pydantic models of the ``paddock`` namespace, read once.

Every key lives in the ``paddock`` namespace (``pulumi config set paddock:<key> ...``) and is
documented in ``infra/Pulumi.dev.yaml.example``; a field's alias is its key. Pulumi hands every
value over as text: numbers and booleans parse from it, lists and maps are JSON (``Json``). A
key the models do not declare is an error naming it, as is a bad value: one line per setting.
Secrets are read with ``get_secret`` so they stay ``Output`` values marked secret all the way
to the resource that consumes them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal, get_args, get_origin

import pulumi
from pydantic import BaseModel, Field, Json, ValidationError, model_validator

from paddock_infra._setting_types import (
    APP_INSIGHTS_ID,
    AppInsights,
    Between,
    Choice,
    EnvName,
    ExpirationDays,
    HttpsUrl,
    HttpUrl,
    IamAction,
    LogRetentionDays,
    NarrowArn,
    OneResourceId,
    QueueName,
    Reservation,
    ResourceId,
    Secret,
    SettingsModel,
    Slug,
)
from paddock_infra._settings import error_lines, stack_settings, unknown_setting
from paddock_infra.bedrock import BedrockConfig
from paddock_infra.network_config import AwsNetwork, AzureNetwork

NAMESPACE = "paddock"


class InfraConfigError(ValueError):
    """A stack configuration value is missing or invalid; the message names the key."""


class AuthConfig(SettingsModel):
    """The OIDC issuer whose bearer tokens both APIs accept."""

    issuer: HttpsUrl = Field(alias="authIssuer")
    """Bearer JWTs must come from this issuer (API Gateway checks them, and so does the app)."""
    audience: str = Field(alias="authAudience")
    """... and carry this audience."""
    jwks_url: str | None = Field(None, alias="authJwksUrl")
    """Where the signing keys are; default: discovered from the issuer."""


class LlmConfig(SettingsModel):
    """Planner settings; ``api_key`` is a secret ``Output`` or ``None``."""

    provider: Annotated[
        Literal["rules", "openai", "azure-openai", "bedrock", "anthropic"], Choice
    ] = Field("rules", alias="llm")
    """The planner: ``rules`` (no model), ``openai``, ``azure-openai``, ``bedrock`` (settings
    in ``paddock_infra.bedrock``) or ``anthropic``."""
    model: str | None = Field(None, alias="llmModel")
    """The model: ``OPENAI_MODEL`` for ``openai``; the deployment name,
    ``AZURE_OPENAI_DEPLOYMENT``, for ``azure-openai`` (required there)."""
    base_url: str | None = Field(None, alias="llmBaseUrl")
    """``OPENAI_BASE_URL``: an OpenAI-compatible endpoint (``openai``)."""
    azure_endpoint: str | None = Field(None, alias="azureOpenaiEndpoint")
    """``AZURE_OPENAI_ENDPOINT`` (required for ``azure-openai``)."""
    azure_api_version: str | None = Field(None, alias="azureOpenaiApiVersion")
    """``AZURE_OPENAI_API_VERSION`` (``azure-openai``; default: the runtime's)."""
    azure_model: str | None = Field(None, alias="azureOpenaiModel")
    """``AZURE_OPENAI_MODEL``: the model behind the deployment, to price its tokens."""
    azure_openai_resource_id: ResourceId | None = Field(None, alias="azureOpenaiResourceId")
    """An Azure OpenAI account the Function App may call keyless (Cognitive Services OpenAI
    User on that one resource)."""
    api_key: Secret | None = Field(None, alias="llmApiKey")
    """SECRET: ``OPENAI_API_KEY`` (``AZURE_OPENAI_API_KEY`` for azure-openai)."""

    @model_validator(mode="after")
    def _model_named(self) -> LlmConfig:
        # What the runtime requires (core.settings.required_variables), refused here rather
        # than found missing when the first run plans.
        if self.provider == "azure-openai" and not (self.azure_endpoint and self.model):
            raise ValueError(
                "paddock:llm azure-openai needs paddock:azureOpenaiEndpoint and paddock:llmModel "
                "(the deployment name)"
            )
        if self.provider in ("openai", "anthropic") and not self.model:
            raise ValueError(f"paddock:llm {self.provider} needs paddock:llmModel")
        return self

    def plain_env(self) -> dict[str, str]:
        """Non-secret environment variables for the planner, named as the runtime reads them
        (``core.settings.ModelSettings``): only the chosen provider's."""
        env: dict[str, str] = {"PADDOCK_LLM": self.provider}
        optional: dict[str, str | None] = {}
        if self.provider == "openai":
            optional = {"OPENAI_MODEL": self.model, "OPENAI_BASE_URL": self.base_url}
        elif self.provider == "azure-openai":
            optional = {
                "AZURE_OPENAI_ENDPOINT": self.azure_endpoint,
                "AZURE_OPENAI_DEPLOYMENT": self.model,
                "AZURE_OPENAI_API_VERSION": self.azure_api_version,
                "AZURE_OPENAI_MODEL": self.azure_model,
            }
        elif self.provider == "anthropic":
            optional = {"ANTHROPIC_MODEL": self.model, "ANTHROPIC_BASE_URL": self.base_url}
        env.update({k: v for k, v in optional.items() if v})
        return env

    @property
    def api_key_env(self) -> str:
        """The variable the OpenAI SDK reads the key from, per provider."""
        if self.provider == "anthropic":
            return "ANTHROPIC_API_KEY"
        return "AZURE_OPENAI_API_KEY" if self.provider == "azure-openai" else "OPENAI_API_KEY"


class TelemetryConfig(SettingsModel):
    """Where the functions send spans and metrics (names as in core/telemetry/setup.py)."""

    otlp_endpoint: HttpUrl | None = Field(None, alias="otlpEndpoint")
    """``PADDOCK_OTLP_ENDPOINT`` on both clouds."""
    otlp_protocol: Annotated[Literal["http/protobuf", "grpc"], Choice] | None = Field(
        None, alias="otlpProtocol"
    )
    """``PADDOCK_OTLP_PROTOCOL``: ``http/protobuf`` or ``grpc``."""
    otlp_headers: Secret | None = Field(None, alias="otlpHeaders")
    """SECRET: ``OTEL_EXPORTER_OTLP_HEADERS`` (e.g. a SaaS backend's API key)."""
    app_insights: AppInsights = Field("create", alias="appInsights")
    """``create`` (a workspace-based component), ``off``, or an existing component's id."""

    @model_validator(mode="after")
    def _endpoint_first(self) -> TelemetryConfig:
        if (self.otlp_protocol or self.otlp_headers is not None) and not self.otlp_endpoint:
            raise ValueError(
                "paddock:otlpProtocol and paddock:otlpHeaders need paddock:otlpEndpoint"
            )
        return self

    @property
    def app_insights_existing(self) -> tuple[str, str] | None:
        """(resource group, component name) when ``app_insights`` names an existing one."""
        match = re.match(APP_INSIGHTS_ID, self.app_insights, re.I)
        return (match.group(1), match.group(2)) if match else None

    def plain_env(self) -> dict[str, str]:
        """Non-secret telemetry variables, the same on both clouds."""
        env: dict[str, str] = {}
        if self.otlp_endpoint:
            env["PADDOCK_OTLP_ENDPOINT"] = self.otlp_endpoint
            if self.otlp_protocol:
                env["PADDOCK_OTLP_PROTOCOL"] = self.otlp_protocol
        return env


class ToolGrant(SettingsModel):
    """One IAM statement the tools roles may use (the ceiling for per-call session policies)."""

    actions: tuple[IamAction, ...] = Field(min_length=1)
    """Exact actions, e.g. ``execute-api:Invoke``."""
    resources: tuple[NarrowArn, ...] = Field(min_length=1)
    """Exact ARNs, e.g. one API stage's method and path."""


class AzureToolGrant(SettingsModel):
    """One Azure role the AWS-workload identity holds on exactly one resource."""

    role_definition_id: Annotated[str, Field(min_length=1)] = Field(alias="role")
    """The role definition's GUID."""
    scope: OneResourceId
    """The one resource the role is held on."""


class AwsConfig(SettingsModel):
    """AWS settings (``paddock:aws*`` and the function sizing keys)."""

    region: str = Field("us-east-1", alias="awsRegion")
    """The region of every AWS resource (the program makes its own provider)."""
    lambda_package: str = Field("../dist/aws-lambda.zip", alias="awsLambdaPackage")
    """The zip scripts/package builds, relative to infra/."""
    http_reserved_concurrency: Reservation = Field(10, alias="httpReservedConcurrency")
    """-1 leaves the function unreserved (accounts limited to 10 cannot reserve any)."""
    worker_reserved_concurrency: Reservation = Field(5, alias="workerReservedConcurrency")
    """Also caps the SQS event source mapping's concurrency."""
    http_timeout: Annotated[int, Between(1, 30)] = Field(29, alias="httpTimeoutSeconds")
    """API Gateway waits at most 30 s."""
    worker_timeout: Annotated[int, Between(1, 900)] = Field(300, alias="workerTimeoutSeconds")
    """The queue's visibility timeout is six times this."""
    http_memory: Annotated[int, Between(128, 10240)] = Field(512, alias="httpMemoryMb")
    """Memory of the HTTP function (CPU grows with it)."""
    worker_memory: Annotated[int, Between(128, 10240)] = Field(1024, alias="workerMemoryMb")
    """Memory of the worker function."""
    worker_batch_size: Annotated[int, Between(1, 10)] = Field(5, alias="workerBatchSize")
    """SQS messages per invocation (partial failures are reported)."""
    max_receive_count: Annotated[int, Between(1, 1000)] = Field(5, alias="maxReceiveCount")
    """Deliveries before a message moves to the dead-letter queue."""
    payload_expiration_days: ExpirationDays = Field(90, alias="payloadExpirationDays")
    """Claim-check payloads under runs/ expire after this (S3 and Blob)."""
    throttle_rate: Annotated[float, Field(gt=0)] = Field(50.0, alias="apiThrottleRate")
    """The HTTP API's steady requests per second."""
    throttle_burst: Annotated[int, Between(1, 10000)] = Field(100, alias="apiThrottleBurst")
    """The HTTP API's burst of requests above the steady rate."""
    cors_origins: Json[tuple[str, ...]] = Field((), alias="corsOrigins")
    """Origins the HTTP API answers CORS requests from."""
    alarm_email: str | None = Field(None, alias="alarmEmail")
    """Subscribed to the dead-letter alarm topic."""
    xray: bool = Field(True, alias="xrayTracing")
    """Lambda active tracing and the X-Ray write permission."""
    outbound_issuer: str | None = Field(None, alias="awsOutboundIssuer")
    """The account's outbound identity federation issuer when it is already enabled."""
    tool_grants: Json[tuple[ToolGrant, ...]] = Field((), alias="awsToolGrants")
    """What the tools roles may ever do: exact actions on exact ARNs."""
    network: Json[AwsNetwork] | None = Field(None, alias="awsNetwork")
    """Lambdas in the operator's subnets with VPC endpoints; unset: no VPC."""


class AzureConfig(SettingsModel):
    """Azure settings (``paddock:azure*``)."""

    location: str = Field("westeurope", alias="azureLocation")
    """The location of every Azure resource (the program makes its own provider)."""
    plan: Annotated[Literal["flex", "consumption"], Choice] = Field("flex", alias="azurePlan")
    """Flex Consumption or Linux Consumption (Y1)."""
    store: Annotated[Literal["cosmos", "table"], Choice] = Field("cosmos", alias="azureStore")
    """Cosmos DB for Table or Table Storage."""
    queue_name: QueueName = Field("paddock-work", alias="azureQueueName")
    """The work queue; the poison queue is ``<name>-poison``."""
    blob_container: str = Field("paddock-payloads", alias="azureBlobContainer")
    """The container of claim-checked payloads."""
    table_name: str = Field("paddockruns", alias="azureTableName")
    """The table of run state (letters and digits)."""
    flex_max_instances: Annotated[int, Between(1, 1000)] = Field(40, alias="flexMaxInstances")
    """The Flex fan-out guard (the Azure twin of reserved concurrency)."""
    flex_instance_memory_mb: Json[Literal[512, 2048, 4096]] = Field(
        2048, alias="flexInstanceMemoryMb"
    )
    """Flex Consumption instance memory: 512, 2048 or 4096 MB."""
    cosmos_serverless: bool = Field(True, alias="cosmosServerless")
    """Serverless Cosmos DB (pay per request) rather than provisioned throughput."""
    payload_expiration_days: ExpirationDays = Field(90, alias="payloadExpirationDays")
    """The same key as on AWS: the Blob lifecycle rule on runs/."""
    aws_token_audience: str = Field("api://paddock-aws", alias="azureToAwsAudience")
    """Identifier URI of the Entra app whose tokens AWS accepts from the Function App."""
    tool_grants: Json[tuple[AzureToolGrant, ...]] = Field((), alias="azureToolGrants")
    """Roles the AWS-workload identity holds, each on one resource."""
    deployer_type: Annotated[Literal["user", "serviceprincipal"], Choice] = Field(
        "user", alias="azureDeployerType"
    )
    """Who runs ``pulumi up`` (``az login`` user, or a service principal in CI): it is granted
    the upload of the package into the deployments container."""
    function_package: str = Field("../dist/azure-functionapp.zip", alias="azureFunctionPackage")
    """The zip scripts/package builds, relative to infra/; ``pulumi up`` uploads it."""
    network: Json[AzureNetwork] | None = Field(None, alias="azureNetwork")
    """VNet integration and private endpoints (Flex Consumption only); unset: public."""

    @model_validator(mode="after")
    def _network_needs_flex(self) -> AzureConfig:
        if self.network is not None and self.plan != "flex":
            raise ValueError(
                "paddock:azureNetwork needs paddock:azurePlan flex "
                "(Linux Consumption has no VNet integration)"
            )
        return self


# ---- the whole stack ---------------------------------------------------------------------------


class InfraConfig(SettingsModel):
    """Everything the program reads from the stack configuration.

    Validated from the flat ``paddock:`` keys by ``from_settings``: each section (``auth``,
    ``llm``, ``telemetry``, ``aws``, ``azure``) takes the keys its fields name.
    """

    stack: Slug
    """The Pulumi stack's name (not a setting)."""
    auth: AuthConfig
    """``authIssuer``, ``authAudience``, ``authJwksUrl``."""
    targets: Annotated[Literal["aws", "azure", "both"], Choice] = "both"
    """What to deploy; ``both`` also wires cross-cloud identity."""
    prefix: Slug = "paddock"
    """Names are ``<prefix>-<stack>-...``."""
    log_retention_days: Json[LogRetentionDays] = Field(30, alias="logRetentionDays")
    """CloudWatch log groups; Log Analytics keeps max(30, this)."""
    llm: LlmConfig = LlmConfig()
    """``llm``, ``llmModel``, ``llmBaseUrl``, ``llmApiKey`` and the ``azureOpenai*`` keys."""
    bedrock: BedrockConfig = BedrockConfig()
    """The ``bedrock*`` keys (``llm: bedrock``)."""
    telemetry: TelemetryConfig = TelemetryConfig()
    """The ``otlp*`` keys and ``appInsights``."""
    tool_secrets: bool = Field(True, alias="toolSecrets")
    """Workers read tool secrets from Secrets Manager / Key Vault (``PADDOCK_SECRETS``)."""
    capability_key: Secret | None = Field(None, alias="capabilityKey")
    """SECRET: a shared Ed25519 PEM for capability tokens; ``None``: one per process."""
    capability_key_id: str | None = Field(None, alias="capabilityKeyId")
    """``PADDOCK_CAPABILITY_KEY_ID``; set with ``capabilityKey``."""
    extra_env: Json[dict[EnvName, str]] = Field({}, alias="extraEnv")
    """Extra variables for every function."""
    workflows: Json[tuple[str, ...]] = Field((), alias="workflows")
    """Workflow bundle folders (relative to infra/) shipped in both packages under
    ``workflows/<folder>/`` (``PADDOCK_WORKFLOWS_DIR``); their names are a stack output."""
    event_webhooks: Json[tuple[HttpsUrl, ...]] = Field((), alias="eventWebhooks")
    """``PADDOCK_EVENTS_WEBHOOKS`` on the workers: https URLs that receive every run event."""
    event_webhook_secret: Secret | None = Field(None, alias="eventWebhookSecret")
    """SECRET: ``PADDOCK_EVENTS_WEBHOOK_SECRET``, the HMAC key webhooks are signed with."""
    aws: AwsConfig = AwsConfig()
    """The AWS keys."""
    azure: AzureConfig = AzureConfig()
    """The Azure keys."""

    @classmethod
    def from_settings(cls, stack: str, settings: Mapping[str, str | Secret]) -> InfraConfig:
        """Validate the stack's flat settings (by key, without the namespace).

        Raises:
            InfraConfigError: one line per unknown key or bad value, naming the key.
        """
        data: dict[str, Any] = {name: {} for name in _SECTIONS}
        lines: list[str] = []
        for key, value in settings.items():
            owners = [name for name, model in _SECTIONS.items() if key in _keys(model)]
            for name in owners:
                data[name][key] = value
            if owners:
                continue
            if key in _STRUCTURE:  # spelt like a section, which no key sets
                lines.append(unknown_setting(f"{NAMESPACE}:{key}"))
            else:  # a top-level setting, or one that extra="forbid" reports
                data[key] = value
        data["stack"] = stack
        try:
            config = cls.model_validate(data)
        except ValidationError as exc:
            lines += error_lines(exc, namespace=NAMESPACE, sections=_SECTIONS)
            raise InfraConfigError("\n".join(lines)) from None  # the lines say it all
        if lines:
            raise InfraConfigError("\n".join(lines))
        return config

    @model_validator(mode="after")
    def _consistent(self) -> InfraConfig:
        if (self.capability_key is None) != (self.capability_key_id is None):
            raise ValueError("paddock:capabilityKey and paddock:capabilityKeyId go together")
        if bool(self.event_webhooks) != (self.event_webhook_secret is not None):
            raise ValueError("paddock:eventWebhooks and paddock:eventWebhookSecret go together")
        if len(self.base_name) > 40:
            raise ValueError(f"prefix + stack {self.base_name!r} is longer than 40 characters")
        bedrock = self.bedrock.problem(self.llm.provider)
        if bedrock is not None:
            raise ValueError(bedrock)
        return self

    @property
    def deploy_aws(self) -> bool:
        return self.targets in ("aws", "both")

    @property
    def deploy_azure(self) -> bool:
        return self.targets in ("azure", "both")

    @property
    def federate(self) -> bool:
        """Cross-cloud identity federation is wired when both clouds are deployed."""
        return self.targets == "both"

    @property
    def base_name(self) -> str:
        """``<prefix>-<stack>``: the stem of every explicit resource name."""
        return f"{self.prefix}-{self.stack}"


_SECTIONS: dict[str, type[SettingsModel]] = {
    "auth": AuthConfig,
    "llm": LlmConfig,
    "bedrock": BedrockConfig,
    "telemetry": TelemetryConfig,
    "aws": AwsConfig,
    "azure": AzureConfig,
}
_STRUCTURE = frozenset({"stack", *_SECTIONS})
"""``InfraConfig`` fields that are not settings."""


def load_config(cfg: pulumi.Config | None = None, *, stack: str | None = None) -> InfraConfig:
    """Read and validate the ``paddock`` namespace of the current stack."""
    cfg = cfg or pulumi.Config(NAMESPACE)
    settings = stack_settings(cfg, setting_keys(), secret=_secret_keys())
    return InfraConfig.from_settings(stack or pulumi.get_stack(), settings)


def setting_keys() -> frozenset[str]:
    """Every ``paddock:<key>`` the program reads (without the namespace)."""
    keys = _keys(InfraConfig) - _STRUCTURE
    for model in _SECTIONS.values():
        keys |= _keys(model)
    return frozenset(keys)


def _keys(model: type[BaseModel]) -> set[str]:
    return {field.alias or name for name, field in model.model_fields.items()}


def _secret_keys() -> set[str]:
    """The keys typed ``Secret``: read with ``get_secret``."""
    models: list[type[SettingsModel]] = [InfraConfig, *_SECTIONS.values()]
    return {
        field.alias or name
        for model in models
        for name, field in model.model_fields.items()
        if any(get_origin(arg) is pulumi.Output for arg in get_args(field.annotation))
    }
