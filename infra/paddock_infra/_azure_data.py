"""Azure data plane: one storage account (work queue + poison queue, payload container, the
Functions host's containers), and the runs table on Cosmos DB for Table or Table Storage."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure_native

from paddock_infra._azure_common import AzureContext, global_name
from paddock_infra.config import InfraConfig

storage = azure_native.storage
cosmosdb = azure_native.cosmosdb

HOST_CONTAINERS = ("azure-webjobs-hosts", "azure-webjobs-secrets")
"""Created up front so the host's identity needs rights on these containers only."""
DEPLOYMENT_CONTAINER = "deployments"
"""Flex Consumption's deployment storage (and the Consumption plan's package blob)."""
PAYLOAD_PREFIX = "runs/"


@dataclass
class AzureData:
    account: storage.StorageAccount
    work_queue: storage.Queue
    poison_queue: storage.Queue
    payloads: storage.BlobContainer
    containers: dict[str, storage.BlobContainer]
    """Host and deployment containers by name."""
    table_id: pulumi.Output[str]
    """What the runs table's data role is scoped to (the Cosmos account or the table)."""
    table_endpoint: pulumi.Output[str]
    cosmos: cosmosdb.DatabaseAccount | None


def build_data(cfg: InfraConfig, ctx: AzureContext, parent: pulumi.Resource) -> AzureData:
    opts = pulumi.ResourceOptions(parent=parent)
    base = cfg.base_name
    rg = ctx.resource_group.name
    account = storage.StorageAccount(
        f"{base}-storage",
        account_name=global_name(ctx, base, "st", max_len=24, alnum=True),
        resource_group_name=rg,
        location=ctx.location,
        kind="StorageV2",
        sku={"name": "Standard_LRS"},
        allow_shared_key_access=False,
        default_to_o_auth_authentication=True,
        allow_blob_public_access=False,
        minimum_tls_version="TLS1_2",
        enable_https_traffic_only=True,
        allow_cross_tenant_replication=False,
        public_network_access=_storage_public_access(cfg),
        network_rule_set=_storage_firewall(cfg),
        opts=opts,
    )
    child = pulumi.ResourceOptions(parent=account)
    work = storage.Queue(
        f"{base}-work-queue",
        queue_name=cfg.azure.queue_name,
        account_name=account.name,
        resource_group_name=rg,
        opts=child,
    )
    # The Functions host moves a message to "<queue>-poison" after maxDequeueCount attempts.
    poison = storage.Queue(
        f"{base}-poison-queue",
        queue_name=f"{cfg.azure.queue_name}-poison",
        account_name=account.name,
        resource_group_name=rg,
        opts=child,
    )
    containers = {
        name: _container(base, name, account, rg, child)
        for name in (*HOST_CONTAINERS, DEPLOYMENT_CONTAINER)
    }
    payloads = _container(base, "payloads", account, rg, child, name=cfg.azure.blob_container)
    _payload_lifecycle(cfg, ctx, account, child)
    if cfg.azure.store == "cosmos":
        cosmos, table_id, endpoint = _cosmos(cfg, ctx, opts)
    else:
        cosmos = None
        table = storage.Table(
            f"{base}-runs-table",
            table_name=cfg.azure.table_name,
            account_name=account.name,
            resource_group_name=rg,
            opts=child,
        )
        table_id, endpoint = table.id, account.primary_endpoints.table
    return AzureData(
        account=account,
        work_queue=work,
        poison_queue=poison,
        payloads=payloads,
        containers=containers,
        table_id=table_id,
        table_endpoint=endpoint,
        cosmos=cosmos,
    )


def _storage_public_access(cfg: InfraConfig) -> str | None:
    """Private networking without ``publicAccess``: off, unless the deployer's addresses are
    listed (then on, but the firewall admits only them)."""
    net = cfg.azure.network
    if net is None or net.public_access:
        return None
    return "Enabled" if net.deployer_ip_ranges else "Disabled"


def _storage_firewall(cfg: InfraConfig) -> storage.NetworkRuleSetArgsDict | None:
    net = cfg.azure.network
    if net is None or net.public_access or not net.deployer_ip_ranges:
        return None
    return {
        "default_action": storage.DefaultAction.DENY,
        "bypass": "None",
        "ip_rules": [{"i_p_address_or_range": ip} for ip in net.deployer_ip_ranges],
    }


def _container(
    base: str,
    label: str,
    account: storage.StorageAccount,
    rg: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
    *,
    name: str | None = None,
) -> storage.BlobContainer:
    return storage.BlobContainer(
        f"{base}-{label}",
        container_name=name or label,
        public_access=storage.PublicAccess.NONE,
        account_name=account.name,
        resource_group_name=rg,
        opts=opts,
    )


def _payload_lifecycle(
    cfg: InfraConfig,
    ctx: AzureContext,
    account: storage.StorageAccount,
    opts: pulumi.ResourceOptions,
) -> None:
    storage.ManagementPolicy(
        f"{cfg.base_name}-payload-lifecycle",
        account_name=account.name,
        resource_group_name=ctx.resource_group.name,
        management_policy_name="default",
        policy={
            "rules": [
                {
                    "name": "expire-run-payloads",
                    "enabled": True,
                    "type": "Lifecycle",
                    "definition": {
                        "filters": {
                            "blob_types": ["blockBlob"],
                            "prefix_match": [f"{cfg.azure.blob_container}/{PAYLOAD_PREFIX}"],
                        },
                        "actions": {
                            "base_blob": {
                                "delete": {
                                    "days_after_modification_greater_than": (
                                        cfg.azure.payload_expiration_days
                                    )
                                }
                            }
                        },
                    },
                }
            ]
        },
        opts=opts,
    )


def _cosmos(
    cfg: InfraConfig,
    ctx: AzureContext,
    opts: pulumi.ResourceOptions,
) -> tuple[cosmosdb.DatabaseAccount, pulumi.Output[str], pulumi.Output[str]]:
    base = cfg.base_name
    capabilities: list[cosmosdb.CapabilityArgsDict] = [{"name": "EnableTable"}]
    if cfg.azure.cosmos_serverless:
        capabilities.append({"name": "EnableServerless"})
    account = cosmosdb.DatabaseAccount(
        f"{base}-cosmos",
        account_name=global_name(ctx, base, "cosmos", max_len=44),
        resource_group_name=ctx.resource_group.name,
        location=ctx.location,
        kind="GlobalDocumentDB",
        database_account_offer_type=cosmosdb.DatabaseAccountOfferType.STANDARD,
        locations=[cosmosdb.LocationArgsDict(location_name=ctx.location, failover_priority=0)],
        capabilities=capabilities,
        consistency_policy=cosmosdb.ConsistencyPolicyArgsDict(
            default_consistency_level=cosmosdb.DefaultConsistencyLevel.SESSION
        ),
        # Keys off: only Entra identities with a data-plane role assignment can read or write.
        disable_local_auth=True,
        disable_key_based_metadata_write_access=True,
        minimal_tls_version="Tls12",
        public_network_access=(
            "Disabled"
            if cfg.azure.network is not None and not cfg.azure.network.public_access
            else "Enabled"
        ),
        # Point-in-time restore for the last 7 days (free tier of continuous backup).
        backup_policy=cosmosdb.ContinuousModeBackupPolicyArgsDict(
            type="Continuous", continuous_mode_properties={"tier": "Continuous7Days"}
        ),
        opts=opts,
    )
    cosmosdb.TableResourceTable(
        f"{base}-runs-table",
        account_name=account.name,
        resource_group_name=ctx.resource_group.name,
        table_name=cfg.azure.table_name,
        resource={"id": cfg.azure.table_name},
        opts=pulumi.ResourceOptions(parent=account),
    )
    endpoint = pulumi.Output.concat("https://", account.name, ".table.cosmos.azure.com:443/")
    return account, account.id, endpoint
