"""``AzureStack``: Paddock on Azure as one component resource."""

from __future__ import annotations

import pulumi
import pulumi_azure_native as azure_native

from paddock_infra import events
from paddock_infra._azure_code import deploy_flex, upload_package
from paddock_infra._azure_common import AzureContext
from paddock_infra._azure_data import build_data
from paddock_infra._azure_function import build_function
from paddock_infra._azure_identity import aws_workload_identity, grant_function, trust_aws_worker
from paddock_infra._azure_network import build_vnet, private_endpoints
from paddock_infra.config import InfraConfig
from paddock_infra.federation import AwsPeer
from paddock_infra.packaging import Package


class AzureStack(pulumi.ComponentResource):
    """Storage queues and payload blobs, the runs table, a Function App with a managed identity.

    Args:
        name: the component's logical name.
        cfg: the stack configuration.
        package: the Function App package to upload (scripts/package plus the workflows).
        aws: when given, the Function App is told which AWS role to assume by web identity, and
            a user-assigned identity trusts the AWS worker's outbound tokens.
        opts: resource options; pass the azure-native provider here.
    """

    api_url: pulumi.Output[str]
    resource_group_name: pulumi.Output[str]
    function_app_name: pulumi.Output[str]
    principal_id: pulumi.Output[str]
    tenant_id: pulumi.Output[str]
    queue_name: pulumi.Output[str]
    poison_queue_name: pulumi.Output[str]
    table_name: pulumi.Output[str]
    queue_endpoint: pulumi.Output[str]
    table_endpoint: pulumi.Output[str]
    blob_endpoint: pulumi.Output[str]
    aws_workload_client_id: pulumi.Output[str] | None
    key_vault_name: pulumi.Output[str] | None
    key_vault_url: pulumi.Output[str] | None
    package_url: pulumi.Output[str]
    """The uploaded Function App package."""
    event_topic_endpoint: pulumi.Output[str]
    """The Event Grid topic run events are sent to (docs/events.md)."""

    def __init__(
        self,
        name: str,
        cfg: InfraConfig,
        *,
        package: Package,
        aws: AwsPeer | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("paddock:azure:AzureStack", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        client = azure_native.authorization.get_client_config_output(opts=invoke)
        group = azure_native.resources.ResourceGroup(
            f"{cfg.base_name}-rg",
            resource_group_name=f"{cfg.base_name}-rg",
            location=cfg.azure.location,
            opts=child,
        )
        ctx = AzureContext(
            subscription_id=client.subscription_id,
            tenant_id=client.tenant_id,
            resource_group=group,
            location=cfg.azure.location,
        )
        net = build_vnet(cfg, ctx, self)
        data = build_data(cfg, ctx, self)
        blob = upload_package(cfg, ctx, data, package, client.object_id, self)
        topic = events.event_topic(cfg, ctx, self)
        fn = build_function(
            cfg,
            ctx,
            data,
            self,
            aws=aws,
            package_url=blob.url,
            net=net,
            # Consumption runs from the blob at start: it must be there first.
            depends_on=[blob] if cfg.azure.plan == "consumption" else [],
            events_settings={events.TOPIC_VARIABLE: topic.endpoint},
        )
        container_grants = grant_function(cfg, ctx, data, fn, self)
        events.grant_send(
            cfg, ctx, topic, fn.app.identity.apply(lambda i: i.principal_id if i else ""), self
        )
        if net is not None:
            private_endpoints(cfg, ctx, net, data, fn.vault)
        if cfg.azure.plan == "flex":
            # The app reads its deployment container with its identity: grant first.
            deploy_flex(cfg, ctx, fn.app, blob, package, depends_on=container_grants)
        self.package_url = blob.url
        self.event_topic_endpoint = topic.endpoint
        self.aws_workload_client_id = None
        self.key_vault_name = self.key_vault_url = None
        if fn.vault is not None:
            self.key_vault_name = fn.vault.name
            self.key_vault_url = fn.vault.properties.vault_uri
        if aws is not None:
            identity = aws_workload_identity(cfg, ctx, data, self)
            trust_aws_worker(cfg, ctx, identity, aws)
            self.aws_workload_client_id = identity.client_id
        # functions/azure/host.json sets routePrefix "": routes sit at the root, as on AWS.
        self.api_url = pulumi.Output.concat("https://", fn.app.default_host_name)
        self.resource_group_name = group.name
        self.function_app_name = fn.app.name
        self.principal_id = fn.app.identity.apply(lambda i: i.principal_id if i else "")
        self.tenant_id = client.tenant_id
        self.queue_name = data.work_queue.name
        self.poison_queue_name = data.poison_queue.name
        self.table_name = pulumi.Output.from_input(cfg.azure.table_name)
        self.queue_endpoint = data.account.primary_endpoints.queue
        self.table_endpoint = data.table_endpoint
        self.blob_endpoint = data.account.primary_endpoints.blob
        self.register_outputs(
            {
                "api_url": self.api_url,
                "function_app_name": self.function_app_name,
                "queue_name": self.queue_name,
                "table_name": self.table_name,
            }
        )
