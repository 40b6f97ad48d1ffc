"""Typed settings: every variable reaches its field, bad values are one-line ``ConfigError``s
naming the variable (never echoing a secret), and the set of variables is enumerable."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from core.errors import ConfigError
from core.settings import (
    AuthSettings,
    IdentitySettings,
    LimitSettings,
    LocalSettings,
    ModelSettings,
    Settings,
    StorageSettings,
    TelemetrySettings,
    WorkerSettings,
    runtime_prefixes,
    runtime_variables,
)

PEM = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIB5s\n-----END PRIVATE KEY-----"

# variable -> (a value as the environment gives it, the field it lands in, the typed value)
VALID: dict[str, tuple[str, str, Any]] = {
    "PADDOCK_CLOUD": (" AWS ", "cloud", "aws"),
    "PADDOCK_STORE": ("dynamodb", "storage.store", "dynamodb"),
    "PADDOCK_DYNAMODB_TABLE": ("runs", "storage.dynamodb_table", "runs"),
    "PADDOCK_PAYLOAD_BUCKET": ("bucket", "storage.payload_bucket", "bucket"),
    "PADDOCK_SQS_QUEUE_URL": ("https://sqs/q", "storage.sqs_queue_url", "https://sqs/q"),
    "PADDOCK_AWS_ENDPOINT_URL": ("http://127.0.0.1:5000", "storage.aws_endpoint_url", None),
    "PADDOCK_TABLE_NAME": ("runs", "storage.table_name", "runs"),
    "PADDOCK_TABLE_ENDPOINT": ("https://t", "storage.table_endpoint", "https://t"),
    "PADDOCK_QUEUE_ENDPOINT": ("https://q", "storage.queue_endpoint", "https://q"),
    "PADDOCK_BLOB_ENDPOINT": ("https://b", "storage.blob_endpoint", "https://b"),
    "PADDOCK_AZURE_CONNECTION_STRING": ("A=b;", "storage.azure_connection_string", "A=b;"),
    "PADDOCK_QUEUE_NAME": ("work", "storage.queue_name", "work"),
    "PADDOCK_BLOB_CONTAINER": ("blobs", "storage.blob_container", "blobs"),
    "PADDOCK_AUTH_ISSUER": ("https://idp", "auth.issuer", "https://idp"),
    "PADDOCK_AUTH_JWKS_URL": ("https://idp/keys", "auth.jwks_url", "https://idp/keys"),
    "PADDOCK_AUTH_AUDIENCE": ("api://p", "auth.audience", "api://p"),
    "PADDOCK_CATALOG_MAX_DOWNLOAD_BYTES": ("1024", "catalog.max_download_bytes", 1024),
    "PADDOCK_CATALOG_MAX_DECOMPRESSED_BYTES": ("2048", "catalog.max_decompressed_bytes", 2048),
    "PADDOCK_CATALOG_MAX_DEPTH": ("40", "catalog.max_depth", 40),
    "PADDOCK_CATALOG_MAX_REFS": ("99", "catalog.max_refs", 99),
    "PADDOCK_CATALOG_UNRESOLVED_REFS": ("WARN", "catalog.unresolved_refs", "warn"),
    "PADDOCK_AUTH_OPERATOR_ISSUER": (
        "https://ops.example",
        "auth.operator_issuer",
        "https://ops.example",
    ),
    "PADDOCK_AUTH_OPERATOR_AUDIENCE": ("paddock-ops", "auth.operator_audience", "paddock-ops"),
    "PADDOCK_AUTH_OPERATOR_JWKS_URL": (
        "https://ops.example/k",
        "auth.operator_jwks_url",
        "https://ops.example/k",
    ),
    "PADDOCK_LOCAL_MODE": ("yes", "local.enabled", True),
    "PADDOCK_LOCAL_BASE_URL_PORTS": ("8001, 8002", "local.base_url_ports", {8001, 8002}),
    "PADDOCK_WORKFLOWS_DIR": ("/var/task/workflows", "workflows.dir", Path("/var/task/workflows")),
    "PADDOCK_LLM_CONTEXT_TOKENS": ("128000", "limits.llm_context_tokens", 128000),
    "PADDOCK_CAPABILITY_KEY": (PEM, "identity.capability_key", PEM),
    "PADDOCK_CAPABILITY_KEY_ID": ("k-1", "identity.capability_key_id", "k-1"),
    "PADDOCK_CAPABILITY_PREVIOUS_KEYS": (
        json.dumps({"k-0": "PEM"}),
        "identity.capability_previous_keys",
        {"k-0": "PEM"},
    ),
    "PADDOCK_AWS_ROLE_ARN": ("arn:aws:iam::1:role/r", "identity.aws_role_arn", None),
    "PADDOCK_AWS_TOKEN_AUDIENCE": ("api://aws", "identity.aws_token_audience", "api://aws"),
    "AWS_WEB_IDENTITY_TOKEN_FILE": ("/t", "identity.aws_web_identity_token_file", "/t"),
    "AWS_REGION": ("eu-west-1", "identity.aws_region", "eu-west-1"),
    "AWS_DEFAULT_REGION": ("eu-west-2", "identity.aws_region", "eu-west-2"),
    "PADDOCK_ENTRA_CLIENT_ID": ("client", "identity.entra_client_id", "client"),
    "PADDOCK_ENTRA_TENANT_ID": ("tenant", "identity.entra_tenant_id", "tenant"),
    "PADDOCK_SECRETS": ("AWS", "identity.secrets", "aws"),
    "PADDOCK_SECRETS_PREFIX": ("stack/", "identity.secrets_prefix", "stack/"),
    "PADDOCK_KEY_VAULT_URL": ("https://v", "identity.key_vault_url", "https://v"),
    "PADDOCK_TRACE_FILE": ("t.jsonl", "telemetry.trace_file", "t.jsonl"),
    "PADDOCK_OTLP_ENDPOINT": ("https://o", "telemetry.otlp_endpoint", "https://o"),
    "OTEL_EXPORTER_OTLP_ENDPOINT": ("https://e", "telemetry.otlp_endpoint", "https://e"),
    "PADDOCK_OTLP_PROTOCOL": ("GRPC", "telemetry.otlp_protocol", "grpc"),
    "OTEL_EXPORTER_OTLP_PROTOCOL": ("grpc", "telemetry.otlp_protocol", "grpc"),
    "PADDOCK_TRACE_CONSOLE": ("on", "telemetry.console", True),
    "APPLICATIONINSIGHTS_CONNECTION_STRING": ("Key=1", "telemetry.azure_monitor", "Key=1"),
    "PADDOCK_TRACE_REASONING": ("off", "telemetry.reasoning", False),
    "PADDOCK_TRACE_MAX_TEXT": ("0", "telemetry.max_text", 0),
    "PADDOCK_REDACT_PERSONAL": ("0", "telemetry.personal_data", False),
    "PADDOCK_REDACT_PATTERNS": ('["a+", "b"]', "telemetry.redact_patterns", ("a+", "b")),
    "PADDOCK_METRICS": ("Powertools", "telemetry.metrics", "powertools"),
    "PADDOCK_TRACE_BATCH": ("false", "telemetry.batch", False),
    "PADDOCK_TRACE_XRAY_IDS": ("true", "telemetry.xray_ids", True),
    "PADDOCK_LLM": ("azure-openai", "model.llm", "azure-openai"),
    "OPENAI_API_KEY": ("sk-1", "model.openai_api_key", "sk-1"),
    "OPENAI_BASE_URL": ("http://m/v1", "model.openai_base_url", "http://m/v1"),
    "OPENAI_MODEL": ("gpt-x", "model.openai_model", "gpt-x"),
    "AZURE_OPENAI_ENDPOINT": ("https://a", "model.azure_openai_endpoint", "https://a"),
    "AZURE_OPENAI_DEPLOYMENT": ("d", "model.azure_openai_deployment", "d"),
    "AZURE_OPENAI_API_VERSION": ("2025-01-01", "model.azure_openai_api_version", None),
    "AZURE_OPENAI_API_KEY": ("k", "model.azure_openai_api_key", "k"),
    "AZURE_OPENAI_MODEL": ("gpt-4o", "model.azure_openai_model", "gpt-4o"),
    "BEDROCK_MODEL_ID": ("amazon.nova-lite-v1:0", "model.bedrock_model_id", None),
    "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": ("http://b", "model.bedrock_endpoint_url", None),
    "ANTHROPIC_API_KEY": ("sk-ant", "model.anthropic_api_key", None),
    "ANTHROPIC_BASE_URL": ("http://a", "model.anthropic_base_url", None),
    "ANTHROPIC_MODEL": ("claude-haiku-4-5", "model.anthropic_model", None),
    "PADDOCK_PRICE_TABLE": ("p.yaml", "model.price_table", "p.yaml"),
    "PADDOCK_TOOL_SEARCH_THRESHOLD": ("10", "model.tool_search_threshold", 10),
    "PADDOCK_TOOL_SEARCH_TOP_K": ("4", "model.tool_search_top_k", 4),
    "PADDOCK_LLM_TPM": ("90000", "limits.llm_tpm", 90000.0),
    "PADDOCK_LLM_RPM": ("1.5", "limits.llm_rpm", 1.5),
    "PADDOCK_LLM_DEPLOYMENT": ("gpt", "limits.llm_deployment", "gpt"),
    "PADDOCK_TOOL_RPM": ("a=30, b=1.5", "limits.tool_rpm", {"a": 30.0, "b": 1.5}),
    "PADDOCK_HOST_RPM": (
        "ERP.example.com:8443=60",
        "limits.host_rpm",
        {"erp.example.com:8443": 60},
    ),
    "PADDOCK_TENANT_CONCURRENCY": ("4", "worker.tenant_concurrency", 4),
    "PADDOCK_EVENTS_SOURCE": ("/paddock/prod", "events.source", None),
    "PADDOCK_EVENTS_EVENTBRIDGE_BUS": ("paddock-events", "events.eventbridge_bus", None),
    "PADDOCK_EVENTS_EVENTGRID_ENDPOINT": ("https://t", "events.eventgrid_endpoint", None),
    "PADDOCK_EVENTS_EVENTGRID_KEY": ("k", "events.eventgrid_key", None),
    "PADDOCK_EVENTS_WEBHOOKS": (
        "https://erp.example.com/hook, http://127.0.0.1:9/h",
        "events.webhooks",
        ("https://erp.example.com/hook", "http://127.0.0.1:9/h"),
    ),
    "PADDOCK_EVENTS_WEBHOOK_SECRET": (
        "0123456789abcdef,fedcba9876543210",
        "events.webhook_secrets",
        ("0123456789abcdef", "fedcba9876543210"),
    ),
    "PADDOCK_EVENTS_MAX_ATTEMPTS": ("3", "events.max_attempts", 3),
    "PADDOCK_CONSOLE_OIDC_ISSUER": ("https://idp", "console.oidc_issuer", None),
    "PADDOCK_CONSOLE_OIDC_CLIENT_ID": ("c", "console.oidc_client_id", None),
    "PADDOCK_CONSOLE_OIDC_CLIENT_SECRET": ("s", "console.oidc_client_secret", None),
    "PADDOCK_CONSOLE_OIDC_REDIRECT_URI": ("https://p/cb", "console.oidc_redirect_uri", None),
    "PADDOCK_CONSOLE_OIDC_SCOPES": ("openid email", "console.oidc_scopes", None),
    "PADDOCK_CONSOLE_ROLES_CLAIM": ("cognito:groups", "console.roles_claim", None),
    "PADDOCK_CONSOLE_TENANT_CLAIM": (
        "custom:tenant, tid",
        "console.tenant_claims",
        ("custom:tenant", "tid"),
    ),
    "PADDOCK_CONSOLE_ROLE_MAP": (
        "Paddock.Approver=approver",
        "console.role_map",
        {"Paddock.Approver": "approver"},
    ),
    "PADDOCK_CONSOLE_SESSION_SECRET": ("x" * 32, "console.session_secret", None),
}
# Variables that need a partner to be valid on their own.
PARTNERS = {
    "PADDOCK_CAPABILITY_KEY": {"PADDOCK_CAPABILITY_KEY_ID": "k-1"},
    "PADDOCK_ENTRA_CLIENT_ID": {"PADDOCK_ENTRA_TENANT_ID": "t"},
    "PADDOCK_ENTRA_TENANT_ID": {"PADDOCK_ENTRA_CLIENT_ID": "c"},
    "PADDOCK_CONSOLE_OIDC_ISSUER": {
        "PADDOCK_CONSOLE_OIDC_CLIENT_ID": "c",
        "PADDOCK_CONSOLE_OIDC_REDIRECT_URI": "https://p/cb",
        "PADDOCK_CONSOLE_SESSION_SECRET": "x" * 32,
    },
}


def _at(settings: Settings, path: str) -> Any:
    value: Any = settings
    for part in path.split("."):
        value = getattr(value, part)
    return value


def test_every_runtime_variable_has_a_case_here() -> None:
    assert set(VALID) == runtime_variables()
    assert runtime_prefixes() == {"PADDOCK_SECRET_"}


@pytest.mark.parametrize("variable", sorted(VALID))
def test_each_variable_reaches_its_field(variable: str) -> None:
    raw, path, expected = VALID[variable]
    settings = Settings.from_env({variable: raw, **PARTNERS.get(variable, {})})
    assert _at(settings, path) == (raw if expected is None else expected)
    assert _at(Settings(), path) != _at(settings, path)  # not the default by chance


def test_nothing_set_gives_the_documented_defaults() -> None:
    settings = Settings.from_env({})
    assert settings == Settings()
    assert (settings.cloud, settings.storage.store, settings.model.llm) == (
        "local",
        "memory",
        "rules",
    )
    assert settings.identity.aws_region == "us-east-1" and settings.identity.secrets is None
    assert settings.telemetry.max_text == 4000 and settings.telemetry.metrics is None
    assert settings.model.openai_model == "gpt-4o-mini"
    assert settings.model.azure_openai_api_version == "2024-10-21"
    assert settings.limits.tool_rpm == {} and settings.worker.tenant_concurrency is None


def test_blank_values_are_unset_and_the_first_name_wins() -> None:
    settings = Settings.from_env(
        {
            "PADDOCK_STORE": "   ",
            "PADDOCK_OTLP_ENDPOINT": "",
            "OTEL_EXPORTER_OTLP_ENDPOINT": "https://otel",
            "AWS_REGION": "eu-west-1",
            "AWS_DEFAULT_REGION": "eu-west-2",
        }
    )
    assert settings.storage.store == "memory"
    assert settings.telemetry.otlp_endpoint == "https://otel"
    assert settings.identity.aws_region == "eu-west-1"


def test_tool_secrets_are_read_by_prefix_as_given() -> None:
    env = {"PADDOCK_SECRET_ERP_APIKEY": " k-1 ", "PADDOCK_SECRETS": "env", "OTHER": "x"}
    identity = Settings.from_env(env).identity
    assert identity.secret_values == {"PADDOCK_SECRET_ERP_APIKEY": " k-1 "}
    assert identity.configured


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PADDOCK_CLOUD": "gcp"}, "PADDOCK_CLOUD='gcp': choose aws, azure or local"),
        ({"PADDOCK_STORE": "cassandra"}, "PADDOCK_STORE='cassandra': choose memory, dynamodb"),
        ({"PADDOCK_LOCAL_MODE": "maybe"}, "PADDOCK_LOCAL_MODE='maybe': use on or off"),
        ({"PADDOCK_LOCAL_BASE_URL_PORTS": "80a"}, "PADDOCK_LOCAL_BASE_URL_PORTS must be a comma"),
        ({"PADDOCK_SECRETS": "vault"}, "PADDOCK_SECRETS='vault': choose env, aws or keyvault"),
        ({"PADDOCK_SECRETS": "keyvault"}, "PADDOCK_SECRETS=keyvault needs PADDOCK_KEY_VAULT_URL"),
        ({"PADDOCK_CAPABILITY_KEY": PEM}, "PADDOCK_CAPABILITY_KEY needs PADDOCK_CAPABILITY_KEY_ID"),
        (
            {"PADDOCK_CAPABILITY_PREVIOUS_KEYS": "[]"},
            "PADDOCK_CAPABILITY_PREVIOUS_KEYS='[]': must be JSON",
        ),
        (
            {"PADDOCK_CAPABILITY_PREVIOUS_KEYS": "{"},
            "PADDOCK_CAPABILITY_PREVIOUS_KEYS='{': must be JSON",
        ),
        (
            {"PADDOCK_ENTRA_TENANT_ID": "t"},
            "PADDOCK_ENTRA_CLIENT_ID and PADDOCK_ENTRA_TENANT_ID go",
        ),
        (
            {"PADDOCK_OTLP_PROTOCOL": "thrift"},
            "PADDOCK_OTLP_PROTOCOL='thrift': choose http/protobuf",
        ),
        (
            {"OTEL_EXPORTER_OTLP_PROTOCOL": "x"},
            "OTEL_EXPORTER_OTLP_PROTOCOL='x': choose http/proto",
        ),
        ({"PADDOCK_TRACE_CONSOLE": "2"}, "PADDOCK_TRACE_CONSOLE='2': use on or off"),
        ({"PADDOCK_TRACE_MAX_TEXT": "-1"}, "PADDOCK_TRACE_MAX_TEXT='-1': input should be greater"),
        ({"PADDOCK_TRACE_MAX_TEXT": "many"}, "PADDOCK_TRACE_MAX_TEXT='many': input should be a"),
        ({"PADDOCK_REDACT_PATTERNS": "("}, "PADDOCK_REDACT_PATTERNS='(': not a regular expression"),
        ({"PADDOCK_REDACT_PATTERNS": "[1]"}, "PADDOCK_REDACT_PATTERNS='[1]': must be a JSON list"),
        ({"PADDOCK_REDACT_PATTERNS": "[x"}, "PADDOCK_REDACT_PATTERNS='[x': not a JSON list"),
        ({"PADDOCK_METRICS": "statsd"}, "PADDOCK_METRICS='statsd': choose off, otel or powertools"),
        (
            {"PADDOCK_LLM": "gpt"},
            "PADDOCK_LLM='gpt': choose rules, openai, azure-openai, bedrock or anthropic",
        ),
        ({"PADDOCK_TOOL_SEARCH_TOP_K": "0"}, "PADDOCK_TOOL_SEARCH_TOP_K='0': input should be"),
        ({"PADDOCK_LLM_TPM": "nan"}, "PADDOCK_LLM_TPM='nan': must be a positive number"),
        ({"PADDOCK_LLM_RPM": "0"}, "PADDOCK_LLM_RPM='0': must be a positive number"),
        ({"PADDOCK_TOOL_RPM": "a=1,a=2"}, "PADDOCK_TOOL_RPM: 'a' is given twice"),
        ({"PADDOCK_HOST_RPM": "h/x=1"}, "PADDOCK_HOST_RPM: 'h/x=1' is not <host[:port]>"),
        ({"PADDOCK_TENANT_CONCURRENCY": "0"}, "PADDOCK_TENANT_CONCURRENCY='0': must be a positive"),
        ({"PADDOCK_TENANT_CONCURRENCY": "2.5"}, "PADDOCK_TENANT_CONCURRENCY='2.5': must be"),
        ({"PADDOCK_EVENTS_WEBHOOKS": "http://erp.example.com/h"}, "PADDOCK_EVENTS_WEBHOOKS="),
        ({"PADDOCK_EVENTS_WEBHOOK_SECRET": "short"}, "PADDOCK_EVENTS_WEBHOOK_SECRET: each webhook"),
        ({"PADDOCK_EVENTS_MAX_ATTEMPTS": "0"}, "PADDOCK_EVENTS_MAX_ATTEMPTS='0': input should"),
        ({"PADDOCK_CONSOLE_SESSION_SECRET": "short"}, "PADDOCK_CONSOLE_SESSION_SECRET: must be"),
        ({"PADDOCK_CONSOLE_OIDC_SCOPES": "email"}, "PADDOCK_CONSOLE_OIDC_SCOPES='email': must"),
        ({"PADDOCK_CONSOLE_ROLE_MAP": "admin"}, "PADDOCK_CONSOLE_ROLE_MAP='admin': 'admin' is"),
        (
            {"PADDOCK_CONSOLE_OIDC_ISSUER": "https://idp"},
            "console: the OIDC sign-in (PADDOCK_CONSOLE_OIDC_ISSUER) needs",
        ),
    ],
)
def test_a_bad_value_is_one_line_naming_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(env)
    assert caught.value.message.startswith(message), caught.value.message
    assert "\n" not in caught.value.message


def test_secret_values_never_appear_in_errors_or_reprs() -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"PADDOCK_CAPABILITY_KEY": "s3cret", "PADDOCK_ENTRA_CLIENT_ID": "c"})
    assert "s3cret" not in caught.value.message
    settings = Settings.from_env(
        {
            "OPENAI_API_KEY": "sk-s3cret",
            "AZURE_OPENAI_API_KEY": "az-s3cret",
            "PADDOCK_AZURE_CONNECTION_STRING": "AccountKey=s3cret",
            "APPLICATIONINSIGHTS_CONNECTION_STRING": "InstrumentationKey=s3cret",
            "PADDOCK_SECRET_ERP": "s3cret",
            "PADDOCK_CAPABILITY_KEY": "s3cret",
            "PADDOCK_CAPABILITY_KEY_ID": "k",
        }
    )
    assert "s3cret" not in repr(settings) and "s3cret" not in str(settings)


def test_code_builds_groups_by_field_name_with_the_same_checks() -> None:
    assert Settings(storage=StorageSettings(store="table")).storage.store == "table"
    assert LocalSettings(base_url_ports="8001").base_url_ports == {8001}
    assert LimitSettings(tool_rpm="a=2").tool_rpm == {"a": 2.0}
    with pytest.raises(ConfigError, match="PADDOCK_STORE='cassandra'"):
        StorageSettings(store="cassandra")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="PADDOCK_TRACE_MAX_TEXT=-1: input should be greater"):
        TelemetrySettings(max_text=-1)
    with pytest.raises(ConfigError, match="PADDOCK_LLM_TPM"):
        LimitSettings(llm_tpm=float("inf"))
    with pytest.raises(ConfigError, match=r"^issuers='x': not a setting"):
        AuthSettings(issuers="x")  # type: ignore[call-arg]
    with pytest.raises(ConfigError, match="PADDOCK_KEY_VAULT_URL"):
        IdentitySettings(secrets="keyvault")


def test_settings_are_frozen() -> None:
    settings = Settings()
    with pytest.raises(ValueError, match="frozen"):
        settings.model.llm = "openai"  # type: ignore[misc]


def test_every_field_is_documented_and_named() -> None:
    groups = [
        Settings,
        StorageSettings,
        AuthSettings,
        LocalSettings,
        IdentitySettings,
        TelemetrySettings,
        ModelSettings,
        LimitSettings,
        WorkerSettings,
    ]
    for group in groups:
        for name, field in group.model_fields.items():
            assert field.description, f"{group.__name__}.{name} has no docstring"
            names = field.validation_alias
            if names is not None and isinstance(names, str):
                assert field.description.startswith(names), f"{group.__name__}.{name}"
