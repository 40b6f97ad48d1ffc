"""Secrets stay secret end to end; the two clouds agree on who trusts whom."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pulumi.runtime import rpc

from .harness import SECRET, Synth


def _plain_occurrences(value: Any, path: str = "") -> list[str]:
    """Paths where SECRET appears outside a value marked secret."""
    if rpc.is_rpc_secret(value):
        return []
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _plain_occurrences(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _plain_occurrences(v, f"{path}[{i}]")]
    return [path] if isinstance(value, str) and SECRET in value else []


def _everywhere(s: Synth) -> list[str]:
    return [f"{r.name}{p}" for r in s.resources for p in _plain_occurrences(r.inputs)]


@pytest.mark.parametrize("targets", ["aws", "azure", "both"])
def test_llm_key_only_ever_travels_marked_secret(stack, targets: str) -> None:
    s = stack(targets)
    assert _everywhere(s) == []
    carriers = [r for r in s.resources if SECRET in json.dumps(r.inputs, default=str)]
    assert carriers, "the planted key reached no resource at all"
    assert all(SECRET not in json.dumps(v, default=str) for v in s.outputs.values())


def test_aws_worker_receives_the_key_as_a_secret_environment_value(stack) -> None:
    worker = stack("aws").one("aws:lambda/function:Function", "worker")
    assert rpc.is_rpc_secret(worker.inputs["environment"])
    assert worker.plain("environment")["variables"]["OPENAI_API_KEY"] == SECRET


def test_azure_key_lives_in_key_vault_and_the_setting_is_a_reference(stack) -> None:
    s = stack("azure")
    secret = s.one("azure-native:keyvault:Secret")
    assert rpc.is_rpc_secret(secret.inputs["properties"])
    vault = s.one("azure-native:keyvault:Vault")
    assert vault.plain("properties")["enableRbacAuthorization"] is True
    app = s.one("azure-native:web:WebApp")
    settings = {p["name"]: p["value"] for p in app.plain("siteConfig")["appSettings"]}
    uri = secret.outputs["properties"]["secretUri"]
    assert settings["OPENAI_API_KEY"] == f"@Microsoft.KeyVault(SecretUri={uri})"
    assert app.plain("keyVaultReferenceIdentity") == "SystemAssigned"


def test_no_key_configured_means_no_vault_and_no_key_setting(stack) -> None:
    s = stack("both", secret=None, toolSecrets=False)
    assert not s.of_type("azure-native:keyvault:Vault")
    worker = s.one("aws:lambda/function:Function", "worker").plain("environment")["variables"]
    assert "OPENAI_API_KEY" not in worker
    assert "OPENAI_API_KEY" not in _app_settings(s)


def test_tool_secrets_alone_make_an_empty_vault_and_no_key_setting(stack) -> None:
    s = stack("both", secret=None)
    assert s.one("azure-native:keyvault:Vault")
    assert not s.of_type("azure-native:keyvault:Secret")
    assert "OPENAI_API_KEY" not in _app_settings(s)


def _app_settings(s: Synth) -> dict[str, Any]:
    return {
        p["name"]: p["value"]
        for p in s.one("azure-native:web:WebApp").plain("siteConfig")["appSettings"]
    }


def test_azure_openai_key_goes_to_the_azure_variable(stack) -> None:
    s = stack("aws", llm="azure-openai", azureOpenaiEndpoint="https://x.openai.azure.com/")
    env = s.one("aws:lambda/function:Function", "worker").plain("environment")["variables"]
    assert env["AZURE_OPENAI_API_KEY"] == SECRET and "OPENAI_API_KEY" not in env
    assert env["AZURE_OPENAI_ENDPOINT"] == "https://x.openai.azure.com/"


def test_azure_calls_aws_as_the_role_the_aws_side_creates(stack) -> None:
    s = stack("both")
    settings = {
        p["name"]: p["value"]
        for p in s.one("azure-native:web:WebApp").plain("siteConfig")["appSettings"]
    }
    role = s.one("aws:iam/role:Role", "azure-workload-role")
    assert settings["PADDOCK_AWS_ROLE_ARN"] == role.outputs["arn"]
    work = next(q for q in s.of_type("aws:sqs/queue:Queue") if q.name.endswith("-work"))
    assert settings["PADDOCK_SQS_QUEUE_URL"] == work.outputs["url"]
    assert settings["PADDOCK_DYNAMODB_TABLE"] == s.one("aws:dynamodb/table:Table").plain("name")
    payloads = s.one("aws:s3/bucket:Bucket", "payloads")
    assert settings["PADDOCK_PAYLOAD_BUCKET"] == payloads.plain("bucket")
    assert settings["PADDOCK_AWS_TOKEN_AUDIENCE"] == "api://paddock-aws"


def test_entra_trusts_exactly_the_aws_worker_role_from_the_account_issuer(stack) -> None:
    s = stack("both")
    credential = s.one("azure-native:managedidentity:FederatedIdentityCredential")
    issuer = s.one("aws:iam/outboundWebIdentityFederation:OutboundWebIdentityFederation")
    worker_role = s.one("aws:iam/role:Role", "worker-role")
    assert credential.plain("issuer") == issuer.outputs["issuerIdentifier"]
    assert credential.plain("subject") == worker_role.outputs["arn"]
    assert credential.plain("audiences") == ["api://AzureADTokenExchange"]
    identity = s.one("azure-native:managedidentity:UserAssignedIdentity")
    assert credential.plain("resourceName") == identity.plain("resourceName")
    env = s.one("aws:lambda/function:Function", "worker").plain("environment")["variables"]
    assert env["PADDOCK_ENTRA_CLIENT_ID"] == identity.outputs["clientId"]
    assert env["PADDOCK_ENTRA_TENANT_ID"] == identity.outputs["tenantId"]
    assert env["PADDOCK_QUEUE_NAME"] == "paddock-work"


def test_given_outbound_issuer_is_used_instead_of_enabling_the_feature(stack) -> None:
    s = stack("both", awsOutboundIssuer="https://given.tokens.sts.global.api.aws")
    assert not s.of_type("aws:iam/outboundWebIdentityFederation:OutboundWebIdentityFederation")
    credential = s.one("azure-native:managedidentity:FederatedIdentityCredential")
    assert credential.plain("issuer") == "https://given.tokens.sts.global.api.aws"


def test_aws_workload_identity_may_only_hand_off_into_azure(stack) -> None:
    s = stack("both")
    principal = s.one("azure-native:managedidentity:UserAssignedIdentity").outputs["principalId"]
    grants = {
        s.by_id(r.plain("scope")).name: r.plain("roleDefinitionId").rsplit("/", 1)[1]
        for r in s.of_type("azure-native:authorization:RoleAssignment")
        if r.plain("principalId") == principal
    }
    assert grants == {
        "paddock-dev-work-queue": "c6a89b2d-59bc-44d0-9896-0f6e12d7b80a",  # sender only
        "paddock-dev-payloads": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    }
    table_roles = [
        r
        for r in s.of_type("azure-native:cosmosdb:TableResourceTableRoleAssignment")
        if r.plain("principalId") == principal
    ]
    assert len(table_roles) == 1


def test_env_names_are_ones_the_runtime_reads_or_documented_infra_additions(
    stack, tmp_path_factory
) -> None:
    from core.settings import runtime_variables

    known = runtime_variables()
    # Set by the infra but not read by the runtime (issue 19 aligns the model names).
    added = {"PADDOCK_LLM_MODEL"}
    bundle = tmp_path_factory.mktemp("bundles") / "orders"
    bundle.mkdir()
    (bundle / "paddock.yaml").write_text("name: orders\n")
    s = stack("both", workflows=[str(bundle)])
    names = set()
    for fn in s.of_type("aws:lambda/function:Function"):
        names |= set(fn.plain("environment")["variables"])
    app = s.one("azure-native:web:WebApp")
    names |= {p["name"] for p in app.plain("siteConfig")["appSettings"]}
    assert "PADDOCK_WORKFLOWS_DIR" in names
    unknown = {n for n in names if n.startswith("PADDOCK_")} - known - added
    assert unknown == set()
