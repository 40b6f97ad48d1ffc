"""The Function App: monitoring, plan (Flex Consumption or Consumption), Key Vault for tool
secrets and the configured secrets (LLM key, OTLP headers, capability key), and app settings
with identity-based connections only (no keys, no connection strings that carry keys)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure_native

from paddock_infra._azure_common import AzureContext, global_name
from paddock_infra._azure_data import DEPLOYMENT_CONTAINER, AzureData
from paddock_infra._azure_network import AzureNet, public_network_access
from paddock_infra.config import InfraConfig
from paddock_infra.federation import AwsPeer
from paddock_infra.packaging import FUNCTIONS_ROOT, workflows_dir

web = azure_native.web
PYTHON_VERSION = "3.12"
LLM_SECRET_NAME = "llm-api-key"
OTLP_HEADERS_SECRET_NAME = "otlp-headers"
CAPABILITY_KEY_SECRET_NAME = "capability-key"
WEBHOOK_SECRET_NAME = "event-webhook-secret"
"""Vault names of the configured secrets; tool secrets are ``paddock-<api>-<scheme>``."""


@dataclass
class Monitoring:
    """Application Insights: the connection string and the component the identity writes to
    (``None`` for both when ``paddock:appInsights`` is ``off``)."""

    component: azure_native.applicationinsights.Component | None = None
    connection_string: pulumi.Input[str] | None = None
    scope: pulumi.Input[str] | None = None


@dataclass
class AzureFunction:
    app: web.WebApp
    monitoring: Monitoring
    vault: azure_native.keyvault.Vault | None
    secrets: list[azure_native.keyvault.Secret]


def build_function(
    cfg: InfraConfig,
    ctx: AzureContext,
    data: AzureData,
    parent: pulumi.Resource,
    *,
    aws: AwsPeer | None,
    package_url: pulumi.Input[str],
    net: AzureNet | None = None,
    depends_on: list[pulumi.Resource] | None = None,
    events_settings: Mapping[str, pulumi.Input[str]] | None = None,
) -> AzureFunction:
    """The plan, the vault and the app; ``package_url`` is the uploaded package (Consumption
    runs from it), ``net`` the VNet to integrate with, ``depends_on`` what must exist first."""
    opts = pulumi.ResourceOptions(parent=parent)
    monitoring = _monitoring(cfg, ctx, opts)
    vault, secrets, secret_settings = _vault(cfg, ctx, opts)
    plan = _plan(cfg, ctx, opts)
    settings = {
        **app_settings(cfg, data, monitoring, aws=aws, package_url=package_url),
        **secret_settings,
        **(events_settings or {}),
    }
    site_config: web.SiteConfigArgsDict = {
        "app_settings": [{"name": k, "value": v} for k, v in sorted(settings.items())],
        "ftps_state": "Disabled",
        "min_tls_version": "1.2",
        "http20_enabled": True,
    }
    if net is not None:
        site_config["vnet_route_all_enabled"] = True
    flex: web.FunctionAppConfigArgsDict | None = None
    if cfg.azure.plan == "flex":
        flex = {
            "deployment": {
                "storage": {
                    "type": "blobContainer",
                    "value": pulumi.Output.concat(
                        data.account.primary_endpoints.blob, DEPLOYMENT_CONTAINER
                    ),
                    "authentication": {"type": "SystemAssignedIdentity"},
                }
            },
            "runtime": {"name": "python", "version": PYTHON_VERSION},
            "scale_and_concurrency": {
                "maximum_instance_count": cfg.azure.flex_max_instances,
                "instance_memory_mb": cfg.azure.flex_instance_memory_mb,
            },
        }
    else:
        site_config["linux_fx_version"] = f"Python|{PYTHON_VERSION}"
    app = web.WebApp(
        f"{cfg.base_name}-func",
        name=global_name(ctx, cfg.base_name, "func", max_len=60),
        resource_group_name=ctx.resource_group.name,
        location=ctx.location,
        kind="functionapp,linux",
        reserved=True,
        server_farm_id=plan.id,
        https_only=True,
        client_affinity_enabled=False,
        identity={"type": web.ManagedServiceIdentityType.SYSTEM_ASSIGNED},
        key_vault_reference_identity="SystemAssigned",
        site_config=site_config,
        function_app_config=flex,
        virtual_network_subnet_id=net.integration_subnet.id if net is not None else None,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=depends_on or []),
    )
    return AzureFunction(app=app, monitoring=monitoring, vault=vault, secrets=secrets)


def app_settings(
    cfg: InfraConfig,
    data: AzureData,
    monitoring: Monitoring,
    *,
    aws: AwsPeer | None,
    package_url: pulumi.Input[str],
) -> dict[str, pulumi.Input[str]]:
    """Every non-secret setting (names as in docs/settings.md); connections by identity."""
    endpoints = data.account.primary_endpoints
    settings: dict[str, pulumi.Input[str]] = {
        **cfg.extra_env,
        # Identity-based host storage: the account name, no key (credential defaults to the
        # system-assigned identity).
        "AzureWebJobsStorage__accountName": data.account.name,
        "AzureWebJobsStorage__credential": "managedidentity",
        "PADDOCK_CLOUD": "azure",
        "PADDOCK_STORE": "table",
        "PADDOCK_TABLE_NAME": cfg.azure.table_name,
        "PADDOCK_TABLE_ENDPOINT": data.table_endpoint,
        "PADDOCK_QUEUE_ENDPOINT": endpoints.queue,
        "PADDOCK_QUEUE_NAME": cfg.azure.queue_name,
        "PADDOCK_BLOB_ENDPOINT": endpoints.blob,
        "PADDOCK_BLOB_CONTAINER": cfg.azure.blob_container,
        "PADDOCK_AUTH_ISSUER": cfg.auth.issuer,
        "PADDOCK_AUTH_AUDIENCE": cfg.auth.audience,
        **cfg.llm.plain_env(),
        "OTEL_SERVICE_NAME": cfg.base_name,
    }
    if cfg.auth.jwks_url:
        settings["PADDOCK_AUTH_JWKS_URL"] = cfg.auth.jwks_url
    if cfg.workflows:
        settings["PADDOCK_WORKFLOWS_DIR"] = workflows_dir(FUNCTIONS_ROOT)
    if cfg.event_webhooks:
        settings["PADDOCK_EVENTS_WEBHOOKS"] = ",".join(cfg.event_webhooks)
    settings.update(cfg.telemetry.plain_env())
    if monitoring.connection_string is not None:
        settings.update(
            {
                "APPLICATIONINSIGHTS_CONNECTION_STRING": monitoring.connection_string,
                # The host and the exporter write with the app's identity (Monitoring Metrics
                # Publisher on the component), so the component may refuse local auth.
                "APPLICATIONINSIGHTS_AUTHENTICATION_STRING": "Authorization=AAD",
            }
        )
    if aws is not None:
        settings.update(
            {
                "PADDOCK_AWS_ROLE_ARN": aws.role_arn,
                "PADDOCK_AWS_TOKEN_AUDIENCE": cfg.azure.aws_token_audience,
                "AWS_DEFAULT_REGION": aws.region,
                "AWS_REGION": aws.region,
                "PADDOCK_SQS_QUEUE_URL": aws.queue_url,
                "PADDOCK_DYNAMODB_TABLE": aws.table_name,
                "PADDOCK_PAYLOAD_BUCKET": aws.bucket_name,
            }
        )
    if cfg.azure.plan == "consumption":
        settings.update(
            {
                "FUNCTIONS_EXTENSION_VERSION": "~4",
                "FUNCTIONS_WORKER_RUNTIME": "python",
                "WEBSITE_RUN_FROM_PACKAGE": package_url,
                "WEBSITE_RUN_FROM_PACKAGE_BLOB_MI_RESOURCE_ID": "SystemAssigned",
            }
        )
    return settings


def _monitoring(cfg: InfraConfig, ctx: AzureContext, opts: pulumi.ResourceOptions) -> Monitoring:
    """Create the component, reference an existing one, or none (``paddock:appInsights``)."""
    mode = cfg.telemetry.app_insights
    if mode == "off":
        return Monitoring()
    existing = cfg.telemetry.app_insights_existing
    if existing is not None:
        group, name = existing
        found = azure_native.applicationinsights.get_component_output(
            resource_group_name=group,
            resource_name=name,
            opts=pulumi.InvokeOutputOptions(parent=opts.parent),
        )
        return Monitoring(connection_string=found.connection_string, scope=mode)
    component = _component(cfg, ctx, opts)
    return Monitoring(
        component=component, connection_string=component.connection_string, scope=component.id
    )


def _component(
    cfg: InfraConfig, ctx: AzureContext, opts: pulumi.ResourceOptions
) -> azure_native.applicationinsights.Component:
    workspace = azure_native.operationalinsights.Workspace(
        f"{cfg.base_name}-logs",
        workspace_name=f"{cfg.base_name}-logs",
        resource_group_name=ctx.resource_group.name,
        location=ctx.location,
        sku={"name": "PerGB2018"},
        retention_in_days=max(30, cfg.log_retention_days),
        opts=opts,
    )
    return azure_native.applicationinsights.Component(
        f"{cfg.base_name}-insights",
        resource_name_=f"{cfg.base_name}-insights",
        resource_group_name=ctx.resource_group.name,
        location=ctx.location,
        kind="web",
        application_type="web",
        workspace_resource_id=workspace.id,
        ingestion_mode="LogAnalytics",
        # Entra-only ingestion: the connection string alone cannot write telemetry.
        disable_local_auth=True,
        opts=opts,
    )


def _plan(cfg: InfraConfig, ctx: AzureContext, opts: pulumi.ResourceOptions) -> web.AppServicePlan:
    sku: web.SkuDescriptionArgsDict = (
        {"name": "FC1", "tier": "FlexConsumption"}
        if cfg.azure.plan == "flex"
        else {"name": "Y1", "tier": "Dynamic"}
    )
    return web.AppServicePlan(
        f"{cfg.base_name}-plan",
        name=f"{cfg.base_name}-plan",
        resource_group_name=ctx.resource_group.name,
        location=ctx.location,
        kind="functionapp",
        reserved=True,
        sku=sku,
        opts=opts,
    )


def _vault(
    cfg: InfraConfig,
    ctx: AzureContext,
    opts: pulumi.ResourceOptions,
) -> tuple[
    azure_native.keyvault.Vault | None,
    list[azure_native.keyvault.Secret],
    dict[str, pulumi.Input[str]],
]:
    """The stack's Key Vault (RBAC authorization), when tool secrets are on or a secret is
    configured. Configured secrets are stored in it and the app settings hold only Key Vault
    references; tool secrets are put there by operators and read by the worker
    (``PADDOCK_SECRETS=keyvault``)."""
    stored: list[tuple[str, str, pulumi.Output[str]]] = []  # (vault name, setting, value)
    if cfg.llm.api_key is not None:
        stored.append((LLM_SECRET_NAME, cfg.llm.api_key_env, cfg.llm.api_key))
    if cfg.telemetry.otlp_headers is not None:
        stored.append(
            (OTLP_HEADERS_SECRET_NAME, "OTEL_EXPORTER_OTLP_HEADERS", cfg.telemetry.otlp_headers)
        )
    if cfg.capability_key is not None:
        stored.append((CAPABILITY_KEY_SECRET_NAME, "PADDOCK_CAPABILITY_KEY", cfg.capability_key))
    if cfg.event_webhook_secret is not None:
        stored.append(
            (WEBHOOK_SECRET_NAME, "PADDOCK_EVENTS_WEBHOOK_SECRET", cfg.event_webhook_secret)
        )
    if not stored and not cfg.tool_secrets:
        return None, [], {}
    kv = azure_native.keyvault
    vault = azure_native.keyvault.Vault(
        f"{cfg.base_name}-vault",
        vault_name=global_name(ctx, cfg.base_name, "kv", max_len=24),
        resource_group_name=ctx.resource_group.name,
        location=ctx.location,
        properties=kv.VaultPropertiesArgsDict(
            tenant_id=ctx.tenant_id,
            sku={"family": kv.SkuFamily.A, "name": kv.SkuName.STANDARD},
            enable_rbac_authorization=True,
            soft_delete_retention_in_days=7,
            public_network_access=public_network_access(cfg),
        ),
        opts=opts,
    )
    settings: dict[str, pulumi.Input[str]] = {}
    secrets = []
    for secret_name, setting, value in stored:
        marked: pulumi.Output[str] = pulumi.Output.secret(value)
        secret = azure_native.keyvault.Secret(
            f"{cfg.base_name}-{secret_name}",
            vault_name=vault.name,
            resource_group_name=ctx.resource_group.name,
            secret_name=secret_name,
            properties={"value": marked},
            opts=pulumi.ResourceOptions(parent=vault),
        )
        secrets.append(secret)
        settings[setting] = pulumi.Output.concat(
            "@Microsoft.KeyVault(SecretUri=", secret.properties.secret_uri, ")"
        )
    if cfg.capability_key_id is not None:
        settings["PADDOCK_CAPABILITY_KEY_ID"] = cfg.capability_key_id
    if cfg.tool_secrets:
        settings.update(
            {"PADDOCK_SECRETS": "keyvault", "PADDOCK_KEY_VAULT_URL": vault.properties.vault_uri}
        )
    return vault, secrets, settings
