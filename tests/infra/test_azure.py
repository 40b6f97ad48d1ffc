"""Azure resources: identity everywhere, no keys anywhere, roles scoped to single resources."""

from __future__ import annotations

import re

import pytest

from .harness import Synth

VARIANTS = [
    ("azure", {}),
    ("both", {}),
    ("azure", {"azurePlan": "consumption"}),
    ("azure", {"azureStore": "table"}),
    ("azure", {"toolSecrets": False}),
]
VARIANT_IDS = ["flex-cosmos", "both", "consumption", "table-storage", "no-tool-secrets"]
KEY_MARKERS = (
    "AccountKey=",
    "SharedAccessKey=",
    "SharedAccessSignature=",
    "sig=",
    "AccountEndpoint=",
)
SCOPABLE = {
    # Data-plane resources a role may be scoped to: one queue, one container, one table,
    # the telemetry component, one Key Vault secret, or the stack's own Key Vault (tool
    # secrets are named at run time; the vault holds only this stack's secrets).
    "azure-native:storage:Queue",
    "azure-native:storage:BlobContainer",
    "azure-native:storage:Table",
    "azure-native:applicationinsights:Component",
    "azure-native:keyvault:Secret",
    "azure-native:keyvault:Vault",
    "azure-native:eventgrid:Topic",
}
BROAD_SCOPE = re.compile(r"^/subscriptions/[^/]+(/resourceGroups/[^/]+)?/?$", re.I)


def _settings(s: Synth) -> dict[str, str]:
    app = s.one("azure-native:web:WebApp")
    return {p["name"]: p["value"] for p in app.plain("siteConfig")["appSettings"]}


def test_storage_account_refuses_keys_and_plain_http(stack) -> None:
    account = stack("azure").one("azure-native:storage:StorageAccount")
    assert account.plain("allowSharedKeyAccess") is False
    assert account.plain("minimumTlsVersion") == "TLS1_2"
    assert account.plain("enableHttpsTrafficOnly") is True
    assert account.plain("allowBlobPublicAccess") is False
    assert len(account.plain("accountName")) <= 24


def test_work_queue_has_a_poison_queue_and_containers_are_private(stack) -> None:
    s = stack("azure")
    names = sorted(q.plain("queueName") for q in s.of_type("azure-native:storage:Queue"))
    assert names == ["paddock-work", "paddock-work-poison"]
    containers = s.of_type("azure-native:storage:BlobContainer")
    assert {c.plain("containerName") for c in containers} == {
        "paddock-payloads",
        "deployments",
        "azure-webjobs-hosts",
        "azure-webjobs-secrets",
    }
    assert {c.plain("publicAccess") for c in containers} == {"None"}


def test_cosmos_table_account_is_keyless_with_point_in_time_restore(stack) -> None:
    s = stack("azure")
    account = s.one("azure-native:cosmosdb:DatabaseAccount")
    assert {"name": "EnableTable"} in account.plain("capabilities")
    assert account.plain("disableLocalAuth") is True
    assert account.plain("minimalTlsVersion") == "Tls12"
    assert account.plain("backupPolicy")["type"] == "Continuous"
    table = s.one("azure-native:cosmosdb:TableResourceTable")
    assert table.plain("resource") == {"id": "paddockruns"}
    assignment = s.one("azure-native:cosmosdb:TableResourceTableRoleAssignment")
    assert assignment.plain("roleDefinitionId") == (
        f"{account.id}/tableRoleDefinitions/00000000-0000-0000-0000-000000000002"
    )
    assert assignment.plain("scope") == account.id
    assert assignment.plain("principalId") == _principal(s)


def test_table_storage_option_scopes_the_table_role_to_the_table(stack) -> None:
    s = stack("azure", azureStore="table")
    assert not s.of_type("azure-native:cosmosdb:DatabaseAccount")
    table = s.one("azure-native:storage:Table")
    grant = [
        r
        for r in s.of_type("azure-native:authorization:RoleAssignment")
        if r.plain("scope") == table.id
    ]
    assert len(grant) == 1
    assert grant[0].plain("roleDefinitionId").endswith("0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3")
    account = s.one("azure-native:storage:StorageAccount")
    assert _settings(s)["PADDOCK_TABLE_ENDPOINT"] == account.outputs["primaryEndpoints"]["table"]


@pytest.mark.parametrize(("targets", "extra"), VARIANTS, ids=VARIANT_IDS)
def test_function_app_uses_its_managed_identity_and_no_keys(stack, targets, extra) -> None:
    s = stack(targets, **extra)
    app = s.one("azure-native:web:WebApp")
    assert app.plain("identity") == {"type": "SystemAssigned"}
    assert app.plain("httpsOnly") is True
    settings = _settings(s)
    account = s.one("azure-native:storage:StorageAccount").plain("accountName")
    assert settings["AzureWebJobsStorage__accountName"] == account
    assert "AzureWebJobsStorage" not in settings  # the key-based connection string form
    for name, value in settings.items():
        assert not any(m in value for m in KEY_MARKERS), f"{name} carries a key"
        if name.endswith("CONNECTION_STRING") or name.endswith("ConnectionString"):
            # Only App Insights' string is allowed: an ingestion id, not a credential, and
            # local auth is disabled on the component so it cannot write on its own.
            assert name == "APPLICATIONINSIGHTS_CONNECTION_STRING"
    assert settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] == "Authorization=AAD"
    assert s.one("azure-native:applicationinsights:Component").plain("disableLocalAuth") is True
    assert not [c for c in s.calls if "listKeys" in c or "ListKeys" in c]


def test_flex_plan_deploys_from_its_container_with_the_identity(stack) -> None:
    s = stack("azure")
    plan = s.one("azure-native:web:AppServicePlan")
    assert plan.plain("sku") == {"name": "FC1", "tier": "FlexConsumption"}
    config = s.one("azure-native:web:WebApp").plain("functionAppConfig")
    assert config["runtime"] == {"name": "python", "version": "3.12"}
    storage = config["deployment"]["storage"]
    assert storage["authentication"] == {"type": "SystemAssignedIdentity"}
    assert storage["value"].endswith("/deployments")
    assert "FUNCTIONS_WORKER_RUNTIME" not in _settings(s)  # not allowed on Flex


def test_consumption_plan_runs_from_a_package_fetched_with_the_identity(stack) -> None:
    s = stack("azure", azurePlan="consumption")
    assert s.one("azure-native:web:AppServicePlan").plain("sku") == {
        "name": "Y1",
        "tier": "Dynamic",
    }
    settings = _settings(s)
    assert settings["FUNCTIONS_WORKER_RUNTIME"] == "python"
    # The blob pulumi up uploads, named by its content (test_code_deploy.py checks the name).
    assert re.search(
        r"/deployments/azure-functionapp-[0-9a-f]{16}\.zip$", settings["WEBSITE_RUN_FROM_PACKAGE"]
    )
    assert settings["WEBSITE_RUN_FROM_PACKAGE_BLOB_MI_RESOURCE_ID"] == "SystemAssigned"


@pytest.mark.parametrize(("targets", "extra"), VARIANTS, ids=VARIANT_IDS)
def test_role_assignments_are_scoped_to_single_resources(stack, targets, extra) -> None:
    s = stack(targets, **extra)
    assignments = s.of_type("azure-native:authorization:RoleAssignment")
    assert assignments
    for ra in assignments:
        scope = ra.plain("scope")
        assert not BROAD_SCOPE.match(scope), f"{ra.name} is scoped to {scope}"
        target = s.by_id(scope)
        assert target is not None, f"{ra.name}: {scope} is not a resource of this stack"
        assert target.typ in SCOPABLE, f"{ra.name} is scoped to a {target.typ}"
        # The deployer (az login: a user by default) uploads the package; identities are SPs.
        wanted = "User" if ra.plain("principalId") == "deployer" else "ServicePrincipal"
        assert ra.plain("principalType") == wanted


def _function_grants(s: Synth) -> dict[str, str]:
    mine = [
        r
        for r in s.of_type("azure-native:authorization:RoleAssignment")
        if r.plain("principalId") == _principal(s)
    ]
    return {
        s.by_id(r.plain("scope")).name: r.plain("roleDefinitionId").rsplit("/", 1)[1] for r in mine
    }


@pytest.mark.parametrize(
    ("tool_secrets", "secret_scope"),
    [(True, "paddock-dev-vault"), (False, "paddock-dev-llm-api-key")],
)
def test_function_identity_gets_exactly_its_queues_containers_and_secret(
    stack, tool_secrets: bool, secret_scope: str
) -> None:
    by_target = _function_grants(stack("azure", toolSecrets=tool_secrets))
    assert by_target == {
        "paddock-dev-work-queue": "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
        "paddock-dev-poison-queue": "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
        "paddock-dev-payloads": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
        "paddock-dev-deployments": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
        "paddock-dev-azure-webjobs-hosts": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
        "paddock-dev-azure-webjobs-secrets": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
        "paddock-dev-insights": "3913510d-42f4-4e42-8a64-420c390055eb",
        secret_scope: "4633458b-17de-408a-b874-0445c86b69e6",  # Key Vault Secrets User
        "paddock-dev-events": "d5a91429-5739-47e2-a06b-3470a27159e7",  # EventGrid Data Sender
    }


def test_function_settings_name_the_azure_data_plane(stack) -> None:
    s = stack("azure")
    settings = _settings(s)
    endpoints = s.one("azure-native:storage:StorageAccount").outputs["primaryEndpoints"]
    assert settings["PADDOCK_CLOUD"] == "azure" and settings["PADDOCK_STORE"] == "table"
    assert settings["PADDOCK_QUEUE_ENDPOINT"] == endpoints["queue"]
    assert settings["PADDOCK_BLOB_ENDPOINT"] == endpoints["blob"]
    assert settings["PADDOCK_QUEUE_NAME"] == "paddock-work"
    assert settings["PADDOCK_TABLE_NAME"] == "paddockruns"
    assert re.fullmatch(
        r"https://.+\.table\.cosmos\.azure\.com:443/", settings["PADDOCK_TABLE_ENDPOINT"]
    )
    assert "PADDOCK_AWS_ROLE_ARN" not in settings  # only when federated with AWS


def _principal(s: Synth) -> str:
    return s.one("azure-native:web:WebApp").outputs["identity"]["principalId"]
