"""Optional private networking on Azure (``paddock:azureNetwork``): a virtual network with a
subnet delegated to the Function App (VNet integration) and a subnet of private endpoints for
Storage (blob, queue, table), Cosmos DB and Key Vault, each with its private DNS zone linked to
the network so that the usual host names resolve to the private addresses."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure_native

from paddock_infra._azure_common import AzureContext
from paddock_infra._azure_data import AzureData
from paddock_infra.config import InfraConfig

network = azure_native.network
privatedns = azure_native.privatedns

FLEX_DELEGATION = "Microsoft.App/environments"
"""Flex Consumption's VNet integration subnet delegation."""
STORAGE_ZONES = {
    "blob": "privatelink.blob.core.windows.net",
    "queue": "privatelink.queue.core.windows.net",
    "table": "privatelink.table.core.windows.net",
}
COSMOS_TABLE_ZONE = "privatelink.table.cosmos.azure.com"
KEY_VAULT_ZONE = "privatelink.vaultcore.azure.net"


@dataclass
class AzureNet:
    """The network the app joins and where its private endpoints go."""

    vnet: network.VirtualNetwork
    integration_subnet: network.Subnet
    endpoint_subnet: network.Subnet


def public_network_access(cfg: InfraConfig) -> str:
    """``Disabled`` when ``azureNetwork.publicAccess`` is false, else ``Enabled``."""
    net = cfg.azure.network
    return "Disabled" if net is not None and not net.public_access else "Enabled"


def build_vnet(cfg: InfraConfig, ctx: AzureContext, parent: pulumi.Resource) -> AzureNet | None:
    net = cfg.azure.network
    if net is None:
        return None
    opts = pulumi.ResourceOptions(parent=parent)
    base = cfg.base_name
    vnet = network.VirtualNetwork(
        f"{base}-vnet",
        virtual_network_name=f"{base}-vnet",
        resource_group_name=ctx.resource_group.name,
        location=ctx.location,
        address_space={"address_prefixes": [net.address_space]},
        opts=opts,
    )
    child = pulumi.ResourceOptions(parent=vnet)
    integration = network.Subnet(
        f"{base}-integration-subnet",
        subnet_name="functions",
        virtual_network_name=vnet.name,
        resource_group_name=ctx.resource_group.name,
        address_prefix=net.integration_subnet,
        delegations=[{"name": "flex", "service_name": FLEX_DELEGATION}],
        opts=child,
    )
    endpoints = network.Subnet(
        f"{base}-endpoint-subnet",
        subnet_name="private-endpoints",
        virtual_network_name=vnet.name,
        resource_group_name=ctx.resource_group.name,
        address_prefix=net.endpoint_subnet,
        # One subnet operation at a time: Azure refuses concurrent changes to one network.
        opts=pulumi.ResourceOptions(parent=vnet, depends_on=[integration]),
    )
    return AzureNet(vnet=vnet, integration_subnet=integration, endpoint_subnet=endpoints)


def private_endpoints(
    cfg: InfraConfig,
    ctx: AzureContext,
    net: AzureNet,
    data: AzureData,
    vault: azure_native.keyvault.Vault | None,
) -> list[network.PrivateEndpoint]:
    """One endpoint per service the app (and its host) reaches, with DNS."""
    targets: list[tuple[str, pulumi.Input[str], str, str]] = [
        (f"storage-{kind}", data.account.id, kind, zone) for kind, zone in STORAGE_ZONES.items()
    ]
    if data.cosmos is not None:
        targets.append(("cosmos", data.cosmos.id, "Table", COSMOS_TABLE_ZONE))
    if vault is not None:
        targets.append(("vault", vault.id, "vault", KEY_VAULT_ZONE))
    zones = {zone: _zone(cfg, ctx, net, zone) for *_, zone in targets}
    return [
        _endpoint(cfg, ctx, net, label, target, group, zones[zone])
        for label, target, group, zone in targets
    ]


def _zone(cfg: InfraConfig, ctx: AzureContext, net: AzureNet, zone: str) -> privatedns.PrivateZone:
    label = zone.removeprefix("privatelink.").split(".")[0]
    if "cosmos" in zone:
        label = "cosmos-table"
    private_zone = privatedns.PrivateZone(
        f"{cfg.base_name}-dns-{label}",
        private_zone_name=zone,
        resource_group_name=ctx.resource_group.name,
        location="Global",
        opts=pulumi.ResourceOptions(parent=net.vnet),
    )
    privatedns.VirtualNetworkLink(
        f"{cfg.base_name}-dns-{label}-link",
        private_zone_name=private_zone.name,
        resource_group_name=ctx.resource_group.name,
        virtual_network_link_name=f"{cfg.base_name}-vnet",
        location="Global",
        virtual_network={"id": net.vnet.id},
        registration_enabled=False,
        opts=pulumi.ResourceOptions(parent=private_zone),
    )
    return private_zone


def _endpoint(
    cfg: InfraConfig,
    ctx: AzureContext,
    net: AzureNet,
    label: str,
    target: pulumi.Input[str],
    group: str,
    zone: privatedns.PrivateZone,
) -> network.PrivateEndpoint:
    name = f"{cfg.base_name}-pe-{label}"
    endpoint = network.PrivateEndpoint(
        name,
        private_endpoint_name=name,
        resource_group_name=ctx.resource_group.name,
        location=ctx.location,
        subnet={"id": net.endpoint_subnet.id},
        private_link_service_connections=[
            {"name": label, "private_link_service_id": target, "group_ids": [group]}
        ],
        opts=pulumi.ResourceOptions(parent=net.endpoint_subnet),
    )
    network.PrivateDnsZoneGroup(
        f"{name}-dns",
        private_endpoint_name=endpoint.name,
        resource_group_name=ctx.resource_group.name,
        private_dns_zone_group_name="default",
        private_dns_zone_configs=[{"name": label, "private_dns_zone_id": zone.id}],
        opts=pulumi.ResourceOptions(parent=endpoint),
    )
    return endpoint
