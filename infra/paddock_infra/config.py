"""Typed stack configuration, read once from ``pulumi.Config`` with defaults and validation.

Every key lives in the ``paddock`` namespace (``pulumi config set paddock:<key> ...``) and is
documented in ``infra/Pulumi.dev.yaml.example``. Secrets are read with ``get_secret`` so they
stay ``Output`` values marked secret all the way to the resource that consumes them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi

NAMESPACE = "paddock"
TARGETS = ("aws", "azure", "both")
LLM_PROVIDERS = ("rules", "openai", "azure-openai")
AZURE_PLANS = ("flex", "consumption")
AZURE_STORES = ("cosmos", "table")
OTLP_PROTOCOLS = ("http/protobuf", "grpc")
APP_INSIGHTS_MODES = ("create", "off")
"""``paddock:appInsights``: these, or the resource id of an existing component."""
_APP_INSIGHTS_ID = re.compile(
    r"^/subscriptions/[^/]+/resourceGroups/([^/]+)/providers/"
    r"microsoft\.insights/components/([^/]+)$",
    re.I,
)
AWS_LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)
"""The values CloudWatch Logs accepts for ``retention_in_days``."""
_ARM_RESOURCE = re.compile(r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/.+/.+$", re.I)


class InfraConfigError(ValueError):
    """A stack configuration value is missing or invalid; the message names the key."""


@dataclass(frozen=True)
class AuthConfig:
    """The OIDC issuer whose bearer tokens both APIs accept."""

    issuer: str
    audience: str
    jwks_url: str | None = None


@dataclass(frozen=True)
class LlmConfig:
    """Planner settings; ``api_key`` is a secret ``Output`` or ``None``."""

    provider: str = "rules"
    model: str | None = None
    base_url: str | None = None
    azure_endpoint: str | None = None
    azure_api_version: str | None = None
    azure_openai_resource_id: str | None = None
    api_key: pulumi.Output[str] | None = None

    def plain_env(self) -> dict[str, str]:
        """Non-secret environment variables for the planner."""
        env = {"PADDOCK_LLM": self.provider}
        optional = {
            "PADDOCK_LLM_MODEL": self.model,
            "OPENAI_BASE_URL": self.base_url,
            "AZURE_OPENAI_ENDPOINT": self.azure_endpoint,
            "OPENAI_API_VERSION": self.azure_api_version,
        }
        env.update({k: v for k, v in optional.items() if v})
        return env

    @property
    def api_key_env(self) -> str:
        """The variable the OpenAI SDK reads the key from, per provider."""
        return "AZURE_OPENAI_API_KEY" if self.provider == "azure-openai" else "OPENAI_API_KEY"


@dataclass(frozen=True)
class TelemetryConfig:
    """Where the functions send spans and metrics (names as in core/telemetry/setup.py)."""

    otlp_endpoint: str | None = None
    otlp_protocol: str | None = None
    otlp_headers: pulumi.Output[str] | None = None
    """``OTEL_EXPORTER_OTLP_HEADERS`` (e.g. a SaaS backend's API key): a secret ``Output``."""
    app_insights: str = "create"
    """``create`` (a workspace-based component), ``off``, or an existing component's id."""

    @property
    def app_insights_existing(self) -> tuple[str, str] | None:
        """(resource group, component name) when ``app_insights`` names an existing one."""
        match = _APP_INSIGHTS_ID.match(self.app_insights)
        return (match.group(1), match.group(2)) if match else None

    def plain_env(self) -> dict[str, str]:
        """Non-secret telemetry variables, the same on both clouds."""
        env: dict[str, str] = {}
        if self.otlp_endpoint:
            env["PADDOCK_OTLP_ENDPOINT"] = self.otlp_endpoint
            if self.otlp_protocol:
                env["PADDOCK_OTLP_PROTOCOL"] = self.otlp_protocol
        return env


@dataclass(frozen=True)
class ToolGrant:
    """One IAM statement the tools roles may use (the ceiling for per-call session policies)."""

    actions: tuple[str, ...]
    resources: tuple[str, ...]


@dataclass(frozen=True)
class AzureToolGrant:
    """One Azure role the AWS-workload identity holds on exactly one resource."""

    role_definition_id: str
    scope: str


@dataclass(frozen=True)
class AwsConfig:
    """AWS settings (``paddock:aws*`` and the function sizing keys)."""

    region: str = "us-east-1"
    lambda_package: str = "../dist/aws-lambda.zip"
    http_reserved_concurrency: int = 10
    worker_reserved_concurrency: int = 5
    http_timeout: int = 29
    worker_timeout: int = 300
    http_memory: int = 512
    worker_memory: int = 1024
    worker_batch_size: int = 5
    max_receive_count: int = 5
    payload_expiration_days: int = 90
    throttle_rate: float = 50.0
    throttle_burst: int = 100
    cors_origins: tuple[str, ...] = ()
    alarm_email: str | None = None
    xray: bool = True
    outbound_issuer: str | None = None
    tool_grants: tuple[ToolGrant, ...] = ()


@dataclass(frozen=True)
class AzureConfig:
    """Azure settings (``paddock:azure*``)."""

    location: str = "westeurope"
    plan: str = "flex"
    store: str = "cosmos"
    queue_name: str = "paddock-work"
    blob_container: str = "paddock-payloads"
    table_name: str = "paddockruns"
    flex_max_instances: int = 40
    flex_instance_memory_mb: int = 2048
    cosmos_serverless: bool = True
    payload_expiration_days: int = 90
    aws_token_audience: str = "api://paddock-aws"
    tool_grants: tuple[AzureToolGrant, ...] = ()


@dataclass(frozen=True)
class InfraConfig:
    """Everything the program reads from the stack configuration."""

    stack: str
    auth: AuthConfig
    targets: str = "both"
    prefix: str = "paddock"
    log_retention_days: int = 30
    llm: LlmConfig = field(default_factory=LlmConfig)
    telemetry: TelemetryConfig = field(default_factory=TelemetryConfig)
    tool_secrets: bool = True
    """Workers read tool secrets from Secrets Manager / Key Vault (``PADDOCK_SECRETS``)."""
    capability_key: pulumi.Output[str] | None = None
    """A shared Ed25519 PEM for capability tokens (secret); ``None``: one per process."""
    capability_key_id: str | None = None
    extra_env: Mapping[str, str] = field(default_factory=dict)
    aws: AwsConfig = field(default_factory=AwsConfig)
    azure: AzureConfig = field(default_factory=AzureConfig)

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


def load_config(cfg: pulumi.Config | None = None, *, stack: str | None = None) -> InfraConfig:
    """Read and validate the ``paddock`` namespace of the current stack."""
    cfg = cfg or pulumi.Config(NAMESPACE)
    stack = stack or pulumi.get_stack()
    conf = InfraConfig(
        stack=_slug(stack, "stack name"),
        auth=_auth(cfg),
        targets=_choice(cfg, "targets", TARGETS, "both"),
        prefix=_slug(cfg.get("prefix") or "paddock", "paddock:prefix"),
        log_retention_days=_retention(cfg),
        llm=_llm(cfg),
        telemetry=_telemetry(cfg),
        tool_secrets=_bool(cfg, "toolSecrets", True),
        capability_key=cfg.get_secret("capabilityKey"),
        capability_key_id=cfg.get("capabilityKeyId"),
        extra_env=_str_map(cfg, "extraEnv"),
        aws=_aws(cfg),
        azure=_azure(cfg),
    )
    if (conf.capability_key is None) != (conf.capability_key_id is None):
        raise InfraConfigError("paddock:capabilityKey and paddock:capabilityKeyId go together")
    if len(conf.base_name) > 40:
        raise InfraConfigError(f"prefix + stack {conf.base_name!r} is longer than 40 characters")
    return conf


def _auth(cfg: pulumi.Config) -> AuthConfig:
    issuer = cfg.require("authIssuer")
    if not issuer.startswith("https://"):
        raise InfraConfigError(f"paddock:authIssuer must be an https URL, got {issuer!r}")
    return AuthConfig(
        issuer=issuer, audience=cfg.require("authAudience"), jwks_url=cfg.get("authJwksUrl")
    )


def _llm(cfg: pulumi.Config) -> LlmConfig:
    provider = _choice(cfg, "llm", LLM_PROVIDERS, "rules")
    resource_id = cfg.get("azureOpenaiResourceId")
    if resource_id and not _ARM_RESOURCE.match(resource_id):
        raise InfraConfigError("paddock:azureOpenaiResourceId must be a resource id")
    return LlmConfig(
        provider=provider,
        model=cfg.get("llmModel"),
        base_url=cfg.get("llmBaseUrl"),
        azure_endpoint=cfg.get("azureOpenaiEndpoint"),
        azure_api_version=cfg.get("azureOpenaiApiVersion"),
        azure_openai_resource_id=resource_id,
        api_key=cfg.get_secret("llmApiKey"),
    )


def _telemetry(cfg: pulumi.Config) -> TelemetryConfig:
    endpoint = cfg.get("otlpEndpoint")
    if endpoint and not re.match(r"^https?://[^/\s]+", endpoint):
        raise InfraConfigError(f"paddock:otlpEndpoint must be an http(s) URL, got {endpoint!r}")
    protocol = cfg.get("otlpProtocol")
    if protocol is not None:
        protocol = _choice(cfg, "otlpProtocol", OTLP_PROTOCOLS, "http/protobuf")
    headers = cfg.get_secret("otlpHeaders")
    if (protocol or headers is not None) and not endpoint:
        raise InfraConfigError(
            "paddock:otlpProtocol and paddock:otlpHeaders need paddock:otlpEndpoint"
        )
    insights = (cfg.get("appInsights") or "create").strip()
    if insights.lower() in APP_INSIGHTS_MODES:
        insights = insights.lower()
    conf = TelemetryConfig(
        otlp_endpoint=endpoint, otlp_protocol=protocol, otlp_headers=headers, app_insights=insights
    )
    if insights not in APP_INSIGHTS_MODES and conf.app_insights_existing is None:
        raise InfraConfigError(
            "paddock:appInsights must be create, off or the resource id of "
            "an Application Insights component (/subscriptions/.../"
            f"providers/microsoft.insights/components/<name>); got "
            f"{insights!r}"
        )
    return conf


def _aws(cfg: pulumi.Config) -> AwsConfig:
    d = AwsConfig()
    http_timeout = _int(cfg, "httpTimeoutSeconds", d.http_timeout, 1, 30)
    return AwsConfig(
        region=cfg.get("awsRegion") or d.region,
        lambda_package=cfg.get("awsLambdaPackage") or d.lambda_package,
        http_reserved_concurrency=_concurrency(
            cfg, "httpReservedConcurrency", d.http_reserved_concurrency
        ),
        worker_reserved_concurrency=_concurrency(
            cfg, "workerReservedConcurrency", d.worker_reserved_concurrency
        ),
        http_timeout=http_timeout,
        worker_timeout=_int(cfg, "workerTimeoutSeconds", d.worker_timeout, 1, 900),
        http_memory=_int(cfg, "httpMemoryMb", d.http_memory, 128, 10240),
        worker_memory=_int(cfg, "workerMemoryMb", d.worker_memory, 128, 10240),
        worker_batch_size=_int(cfg, "workerBatchSize", d.worker_batch_size, 1, 10),
        max_receive_count=_int(cfg, "maxReceiveCount", d.max_receive_count, 1, 1000),
        payload_expiration_days=_int(
            cfg, "payloadExpirationDays", d.payload_expiration_days, 1, 3650
        ),
        throttle_rate=float(cfg.get_float("apiThrottleRate") or d.throttle_rate),
        throttle_burst=_int(cfg, "apiThrottleBurst", d.throttle_burst, 1, 10000),
        cors_origins=tuple(_str_list(cfg, "corsOrigins")),
        alarm_email=cfg.get("alarmEmail"),
        xray=_bool(cfg, "xrayTracing", d.xray),
        outbound_issuer=cfg.get("awsOutboundIssuer"),
        tool_grants=_tool_grants(cfg.get_object("awsToolGrants") or []),
    )


def _azure(cfg: pulumi.Config) -> AzureConfig:
    d = AzureConfig()
    return AzureConfig(
        location=cfg.get("azureLocation") or d.location,
        plan=_choice(cfg, "azurePlan", AZURE_PLANS, d.plan),
        store=_choice(cfg, "azureStore", AZURE_STORES, d.store),
        queue_name=_queue_name(cfg.get("azureQueueName") or d.queue_name),
        blob_container=cfg.get("azureBlobContainer") or d.blob_container,
        table_name=cfg.get("azureTableName") or d.table_name,
        flex_max_instances=_int(cfg, "flexMaxInstances", d.flex_max_instances, 1, 1000),
        flex_instance_memory_mb=_choice_int(
            cfg, "flexInstanceMemoryMb", (512, 2048, 4096), d.flex_instance_memory_mb
        ),
        cosmos_serverless=_bool(cfg, "cosmosServerless", d.cosmos_serverless),
        payload_expiration_days=_int(
            cfg, "payloadExpirationDays", d.payload_expiration_days, 1, 3650
        ),
        aws_token_audience=cfg.get("azureToAwsAudience") or d.aws_token_audience,
        tool_grants=_azure_grants(cfg.get_object("azureToolGrants") or []),
    )


def _tool_grants(raw: Any) -> tuple[ToolGrant, ...]:
    if not isinstance(raw, list):
        raise InfraConfigError("paddock:awsToolGrants must be a list of {actions, resources}")
    grants = []
    for i, item in enumerate(raw):
        where = f"paddock:awsToolGrants[{i}]"
        actions = _strings(item, "actions", where)
        resources = _strings(item, "resources", where)
        for value in actions:
            if "*" in value or ":" not in value:
                raise InfraConfigError(
                    f"{where}: action {value!r} must be one exact 'service:Action' (no wildcards)"
                )
        for value in resources:
            if not _narrow_arn(value):
                raise InfraConfigError(
                    f"{where}: resource {value!r} must be an ARN naming "
                    "the service, account and resource (no bare '*')"
                )
        grants.append(ToolGrant(actions=tuple(actions), resources=tuple(resources)))
    return tuple(grants)


def _narrow_arn(value: str) -> bool:
    parts = value.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return False
    _, _, service, _, account, resource = parts
    return "*" not in service and "*" not in account and resource.strip("*/:") != ""


def _azure_grants(raw: Any) -> tuple[AzureToolGrant, ...]:
    if not isinstance(raw, list):
        raise InfraConfigError("paddock:azureToolGrants must be a list of {role, scope}")
    grants = []
    for i, item in enumerate(raw):
        where = f"paddock:azureToolGrants[{i}]"
        if not isinstance(item, dict) or not item.get("role") or not item.get("scope"):
            raise InfraConfigError(f"{where}: needs 'role' (role definition GUID) and 'scope'")
        scope = str(item["scope"])
        if not _ARM_RESOURCE.match(scope):
            raise InfraConfigError(
                f"{where}: scope must be one resource id, not a subscription "
                f"or resource group: {scope!r}"
            )
        grants.append(AzureToolGrant(role_definition_id=str(item["role"]), scope=scope))
    return tuple(grants)


def _strings(item: Any, key: str, where: str) -> list[str]:
    values = item.get(key) if isinstance(item, dict) else None
    if (
        not isinstance(values, list)
        or not values
        or not all(isinstance(v, str) and v for v in values)
    ):
        raise InfraConfigError(f"{where}.{key} must be a non-empty list of strings")
    return values


def _choice(cfg: pulumi.Config, key: str, choices: tuple[str, ...], default: str) -> str:
    value = (cfg.get(key) or default).strip().lower()
    if value not in choices:
        raise InfraConfigError(f"paddock:{key} must be one of {', '.join(choices)}; got {value!r}")
    return value


def _choice_int(cfg: pulumi.Config, key: str, choices: tuple[int, ...], default: int) -> int:
    value = cfg.get_int(key)
    value = default if value is None else value
    if value not in choices:
        raise InfraConfigError(f"paddock:{key} must be one of {choices}; got {value}")
    return value


def _int(cfg: pulumi.Config, key: str, default: int, low: int, high: int) -> int:
    value = cfg.get_int(key)
    value = default if value is None else value
    if not low <= value <= high:
        raise InfraConfigError(f"paddock:{key} must be between {low} and {high}; got {value}")
    return value


def _concurrency(cfg: pulumi.Config, key: str, default: int) -> int:
    """Reserved concurrency: -1 leaves the function unreserved; 0 would disable it."""
    value = cfg.get_int(key)
    value = default if value is None else value
    if value == 0 or value < -1 or value > 10000:
        raise InfraConfigError(f"paddock:{key} must be -1 (unreserved) or 1..10000; got {value}")
    return value


def _bool(cfg: pulumi.Config, key: str, default: bool) -> bool:
    value = cfg.get_bool(key)
    return default if value is None else value


def _retention(cfg: pulumi.Config) -> int:
    value = cfg.get_int("logRetentionDays")
    value = 30 if value is None else value
    if value not in AWS_LOG_RETENTION_DAYS:
        raise InfraConfigError(
            f"paddock:logRetentionDays must be one of {AWS_LOG_RETENTION_DAYS}; got {value}"
        )
    return value


def _str_list(cfg: pulumi.Config, key: str) -> list[str]:
    raw = cfg.get_object(key) or []
    if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
        raise InfraConfigError(f"paddock:{key} must be a list of strings")
    return raw


def _str_map(cfg: pulumi.Config, key: str) -> dict[str, str]:
    raw = cfg.get_object(key) or {}
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise InfraConfigError(f"paddock:{key} must be a map of strings")
    reserved = [k for k in raw if k.startswith("PADDOCK_") or k.startswith("AzureWebJobs")]
    if reserved:
        raise InfraConfigError(f"paddock:{key} may not override {', '.join(sorted(reserved))}")
    return {str(k): v for k, v in raw.items()}


def _slug(value: str, what: str) -> str:
    if not re.fullmatch(r"[a-z][a-z0-9-]{0,30}", value):
        raise InfraConfigError(f"{what} must be lowercase letters, digits and '-': {value!r}")
    return value


def _queue_name(value: str) -> str:
    # Azure queue names: 3-63 lowercase letters, digits and single dashes; "-poison" is appended.
    if not re.fullmatch(r"[a-z0-9](?:[a-z0-9]|-(?!-)){2,55}", value) or value.endswith("-"):
        raise InfraConfigError(f"paddock:azureQueueName is not a valid queue name: {value!r}")
    return value
