"""Tool secrets (Secrets Manager / Key Vault), telemetry settings and the shared capability key,
as the program wires them: exact IAM statements, role scopes and function settings."""

from __future__ import annotations

import functools
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from pulumi.runtime import rpc

from .harness import (
    ACCOUNT,
    EXISTING_INSIGHTS,
    EXISTING_INSIGHTS_CONNECTION,
    SUBSCRIPTION,
    Synth,
    synth,
)

HEADERS = "api-key=otlp-planted-secret-42"
PEM = "-----BEGIN PRIVATE KEY-----\ncapability-planted-secret-77\n-----END PRIVATE KEY-----\n"
SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
METRICS_PUBLISHER = "3913510d-42f4-4e42-8a64-420c390055eb"
TELEMETRY = {
    "otlpEndpoint": "https://otel.example.com:4318",
    "otlpProtocol": "grpc",
    "capabilityKeyId": "cap-1",
}


@functools.cache
def _synth(targets: str, stack: str = "dev", telemetry: bool = False, **extra: Any) -> Synth:
    package = Path(tempfile.mkdtemp()) / "aws-lambda.zip"
    package.write_bytes(b"PK\x05\x06" + b"\x00" * 18)
    config: dict[str, Any] = {"targets": targets, **extra}
    secrets = None
    if telemetry:
        config.update(TELEMETRY)
        secrets = {"otlpHeaders": HEADERS, "capabilityKey": PEM}
    return synth(config, package=package, stack=stack, secrets=secrets)


def _env(s: Synth, part: str) -> dict[str, Any]:
    return dict(s.one("aws:lambda/function:Function", part).plain("environment")["variables"])


def _settings(s: Synth) -> dict[str, Any]:
    app = s.one("azure-native:web:WebApp")
    return {p["name"]: p["value"] for p in app.plain("siteConfig")["appSettings"]}


def _statements(s: Synth, part: str) -> list[dict[str, Any]]:
    policy = json.loads(s.one("aws:iam/rolePolicy:RolePolicy", part).plain("policy"))
    return list(policy["Statement"])


def _grants(s: Synth) -> list[tuple[str, str]]:
    """(scope, role GUID) of every role assignment held by the Function App's identity."""
    principal = s.one("azure-native:web:WebApp").outputs["identity"]["principalId"]
    return [
        (r.plain("scope"), r.plain("roleDefinitionId").rsplit("/", 1)[1])
        for r in s.of_type("azure-native:authorization:RoleAssignment")
        if r.plain("principalId") == principal
    ]


def _plain_occurrences(value: Any, needle: str) -> int:
    if rpc.is_rpc_secret(value):
        return 0
    if isinstance(value, dict):
        return sum(_plain_occurrences(v, needle) for v in value.values())
    if isinstance(value, list):
        return sum(_plain_occurrences(v, needle) for v in value)
    return int(isinstance(value, str) and needle in value)


# ---- AWS: Secrets Manager ------------------------------------------------------------------


@pytest.mark.parametrize("stack_name", ["dev", "prod"])
def test_worker_may_read_only_its_stacks_secret_prefix(stack_name: str) -> None:
    s = _synth("aws", stack_name)
    prefix = f"paddock-{stack_name}/"
    reading = [
        st
        for st in _statements(s, "worker-policy")
        if any(a.startswith("secretsmanager:") for a in st["Action"])
    ]
    assert reading == [
        {
            "Sid": "ReadStackToolSecrets",
            "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue"],
            "Resource": [f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:{prefix}*"],
        }
    ]
    env = _env(s, "worker")
    assert env["PADDOCK_SECRETS"] == "aws"
    assert env["PADDOCK_SECRETS_PREFIX"] == prefix
    # The granted ARN pattern is exactly the names the worker will ask for.
    assert reading[0]["Resource"][0].endswith(":secret:" + env["PADDOCK_SECRETS_PREFIX"] + "*")


def test_no_other_role_may_read_secrets() -> None:
    s = _synth("both")
    for policy in s.of_type("aws:iam/rolePolicy:RolePolicy"):
        if "worker-policy" in policy.name:
            continue
        assert "secretsmanager:" not in policy.plain("policy"), policy.name
    assert "PADDOCK_SECRETS" not in _env(s, "http")


def test_tool_secrets_off_means_no_grant_and_no_provider_setting() -> None:
    s = _synth("both", toolSecrets=False)
    assert "secretsmanager:" not in s.one("aws:iam/rolePolicy:RolePolicy", "worker-policy").plain(
        "policy"
    )
    env, settings = _env(s, "worker"), _settings(s)
    for name in ("PADDOCK_SECRETS", "PADDOCK_SECRETS_PREFIX", "PADDOCK_KEY_VAULT_URL"):
        assert name not in env and name not in settings
    assert (s.one("azure-native:keyvault:Vault").id, SECRETS_USER) not in _grants(s)


def test_outputs_say_where_operators_put_tool_secrets() -> None:
    s = _synth("both")
    vault = s.one("azure-native:keyvault:Vault")
    assert s.outputs["awsSecretsPrefix"] == _env(s, "worker")["PADDOCK_SECRETS_PREFIX"]
    assert s.outputs["azureKeyVaultName"] == vault.outputs["name"]
    assert s.outputs["azureKeyVaultUrl"] == _settings(s)["PADDOCK_KEY_VAULT_URL"]
    off = _synth("aws", toolSecrets=False)
    assert "awsSecretsPrefix" not in off.outputs


# ---- Azure: Key Vault --------------------------------------------------------------------------


def test_function_reads_tool_secrets_from_its_own_rbac_vault() -> None:
    s = _synth("azure")
    vault = s.one("azure-native:keyvault:Vault")
    assert vault.plain("properties")["enableRbacAuthorization"] is True
    settings = _settings(s)
    assert settings["PADDOCK_SECRETS"] == "keyvault"
    assert settings["PADDOCK_KEY_VAULT_URL"] == vault.outputs["properties"]["vaultUri"]
    assignment = next(
        r
        for r in s.of_type("azure-native:authorization:RoleAssignment")
        if r.plain("scope") == vault.id
    )
    assert assignment.plain("roleDefinitionId") == (
        f"/subscriptions/{SUBSCRIPTION}/providers/"
        f"Microsoft.Authorization/roleDefinitions/{SECRETS_USER}"
    )
    assert assignment.plain("principalType") == "ServicePrincipal"
    # The vault grant covers the LLM key too: no second, per-secret grant.
    assert [g for g in _grants(s) if g[1] == SECRETS_USER] == [(vault.id, SECRETS_USER)]


# ---- telemetry ---------------------------------------------------------------------------------


def test_otlp_settings_reach_every_function_on_both_clouds() -> None:
    s = _synth("both", telemetry=True)
    for env in (_env(s, "http"), _env(s, "worker"), _settings(s)):
        assert env["PADDOCK_OTLP_ENDPOINT"] == "https://otel.example.com:4318"
        assert env["PADDOCK_OTLP_PROTOCOL"] == "grpc"
    for part in ("http", "worker"):
        fn = s.one("aws:lambda/function:Function", part)
        assert rpc.is_rpc_secret(fn.inputs["environment"])
        assert fn.plain("environment")["variables"]["OTEL_EXPORTER_OTLP_HEADERS"] == HEADERS
    secret = s.one("azure-native:keyvault:Secret", "otlp-headers")
    assert rpc.is_rpc_secret(secret.inputs["properties"])
    assert secret.plain("properties") == {"value": HEADERS}
    uri = secret.outputs["properties"]["secretUri"]
    assert _settings(s)["OTEL_EXPORTER_OTLP_HEADERS"] == f"@Microsoft.KeyVault(SecretUri={uri})"


def test_planted_headers_and_key_travel_only_marked_secret() -> None:
    s = _synth("both", telemetry=True)
    for needle in (HEADERS, PEM):
        assert sum(_plain_occurrences(r.inputs, needle) for r in s.resources) == 0
        quoted = json.dumps(needle)[1:-1]
        assert any(quoted in json.dumps(r.inputs, default=str) for r in s.resources)
        assert all(quoted not in json.dumps(v, default=str) for v in s.outputs.values())


def test_no_otlp_config_means_no_otlp_settings() -> None:
    s = _synth("both")
    for env in (_env(s, "http"), _env(s, "worker"), _settings(s)):
        assert (
            not {"PADDOCK_OTLP_ENDPOINT", "PADDOCK_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_HEADERS"}
            & env.keys()
        )


def test_app_insights_off_creates_no_component_and_no_setting() -> None:
    s = _synth("azure", appInsights="off")
    assert not s.of_type("azure-native:applicationinsights:Component")
    assert not s.of_type("azure-native:operationalinsights:Workspace")
    assert not [k for k in _settings(s) if k.startswith("APPLICATIONINSIGHTS_")]
    assert METRICS_PUBLISHER not in {role for _, role in _grants(s)}


def test_existing_app_insights_is_referenced_not_created() -> None:
    s = _synth("azure", appInsights=EXISTING_INSIGHTS)
    assert not s.of_type("azure-native:applicationinsights:Component")
    assert "azure-native:applicationinsights:getComponent" in s.calls
    settings = _settings(s)
    assert settings["APPLICATIONINSIGHTS_CONNECTION_STRING"] == EXISTING_INSIGHTS_CONNECTION
    assert settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] == "Authorization=AAD"
    assert (EXISTING_INSIGHTS, METRICS_PUBLISHER) in _grants(s)


def test_created_app_insights_is_the_default() -> None:
    s = _synth("azure")
    component = s.one("azure-native:applicationinsights:Component")
    assert (
        _settings(s)["APPLICATIONINSIGHTS_CONNECTION_STRING"]
        == component.outputs["connectionString"]
    )
    assert (component.id, METRICS_PUBLISHER) in _grants(s)


# ---- capability key ----------------------------------------------------------------------------


def test_shared_capability_key_is_a_secret_on_aws_and_a_vault_reference_on_azure() -> None:
    s = _synth("both", telemetry=True)
    worker = _env(s, "worker")
    assert worker["PADDOCK_CAPABILITY_KEY"] == PEM
    assert worker["PADDOCK_CAPABILITY_KEY_ID"] == "cap-1"
    assert "PADDOCK_CAPABILITY_KEY" not in _env(s, "http")  # only the worker mints
    secret = s.one("azure-native:keyvault:Secret", "capability-key")
    settings = _settings(s)
    uri = secret.outputs["properties"]["secretUri"]
    assert settings["PADDOCK_CAPABILITY_KEY"] == f"@Microsoft.KeyVault(SecretUri={uri})"
    assert settings["PADDOCK_CAPABILITY_KEY_ID"] == "cap-1"


def test_without_a_shared_key_each_process_generates_its_own() -> None:
    s = _synth("both")
    assert not {"PADDOCK_CAPABILITY_KEY", "PADDOCK_CAPABILITY_KEY_ID"} & (
        _env(s, "worker").keys() | _settings(s).keys()
    )


def test_every_paddock_setting_with_everything_on_is_read_by_core() -> None:
    from core.settings import runtime_variables

    read = runtime_variables()
    s = _synth("both", telemetry=True)
    names = set(_env(s, "http")) | set(_env(s, "worker")) | set(_settings(s))
    for name in names:
        if name.startswith(("PADDOCK_", "OTEL_EXPORTER_", "APPLICATIONINSIGHTS_")) and name not in {
            "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
            "OTEL_EXPORTER_OTLP_HEADERS",
        }:
            # (the last two are read by the Functions host / the OTLP exporter themselves)
            assert name in read, f"{name} is set but nothing in core reads it"


# ---- validation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"otlpProtocol": "grpc"}, "need paddock:otlpEndpoint"),
        ({"otlpEndpoint": "otel.example.com:4318"}, "paddock:otlpEndpoint"),
        ({"otlpEndpoint": "https://o", "otlpProtocol": "thrift"}, "paddock:otlpProtocol"),
        ({"appInsights": "/subscriptions/s/resourceGroups/rg"}, "paddock:appInsights"),
        ({"appInsights": "yes"}, "paddock:appInsights"),
        ({"capabilityKeyId": "cap-1"}, "capabilityKey and paddock:capabilityKeyId"),
    ],
)
def test_invalid_telemetry_and_key_config_is_refused(values: dict[str, Any], message: str) -> None:
    from paddock_infra.config import InfraConfigError

    from .test_config import load

    with pytest.raises(InfraConfigError, match=message):
        load(**values)


# ---- the runtime reads what the program sets ---------------------------------------------------


def _plain_strings(env: dict[str, Any]) -> dict[str, str]:
    """The settings as a function would see them (Key Vault references left out)."""
    return {
        k: v
        for k, v in env.items()
        if isinstance(v, str) and not v.startswith("@Microsoft.KeyVault")
    }


def test_aws_worker_settings_build_the_secrets_manager_provider_and_otlp_export() -> None:
    from core.identity.secrets_store import AwsSecretsManager
    from core.identity.setup import identity_from_env
    from core.telemetry.setup import TelemetryConfig

    env = _plain_strings(_env(_synth("aws"), "worker"))
    secrets = identity_from_env(env, cloud="aws").authorizer.secrets
    assert isinstance(secrets, AwsSecretsManager)
    assert secrets._prefix == "paddock-dev/"
    otlp = _plain_strings(_env(_synth("both", telemetry=True), "http"))
    telemetry = TelemetryConfig.from_env(otlp, cloud="aws")
    assert (telemetry.otlp_endpoint, telemetry.otlp_protocol) == (
        "https://otel.example.com:4318",
        "grpc",
    )


def test_azure_settings_build_the_key_vault_provider_and_azure_monitor_export() -> None:
    from core.identity.secrets_store import KeyVaultSecrets
    from core.identity.setup import identity_from_env
    from core.telemetry.setup import TelemetryConfig

    s = _synth("azure")
    settings = _plain_strings(_settings(s))
    secrets = identity_from_env(settings, cloud="azure").authorizer.secrets
    assert isinstance(secrets, KeyVaultSecrets)
    vault_url = s.one("azure-native:keyvault:Vault").outputs["properties"]["vaultUri"]
    assert secrets._client.vault_url == vault_url.rstrip("/")  # type: ignore[attr-defined]
    telemetry = TelemetryConfig.from_env(settings, cloud="azure")
    component = s.one("azure-native:applicationinsights:Component")
    assert telemetry.azure_monitor == component.outputs["connectionString"]
