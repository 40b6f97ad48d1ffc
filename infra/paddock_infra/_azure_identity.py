"""Who may do what on Azure: role assignments scoped to single resources, and the user-assigned
identity that AWS workloads federate into."""

from __future__ import annotations

import uuid

import pulumi
import pulumi_azure_native as azure_native

from paddock_infra._azure_common import (
    COSMOS_TABLE_DATA_CONTRIBUTOR,
    AzureContext,
    assign_role,
)
from paddock_infra._azure_data import AzureData
from paddock_infra._azure_function import AzureFunction
from paddock_infra.config import InfraConfig
from paddock_infra.federation import AwsPeer
from paddock_infra.policies import ENTRA_TOKEN_AUDIENCE


def grant_function(
    cfg: InfraConfig, ctx: AzureContext, data: AzureData, fn: AzureFunction, parent: pulumi.Resource
) -> list[azure_native.authorization.RoleAssignment]:
    """The Function App's system identity: exactly the queues, containers, table, telemetry
    and secrets it uses. Returns the container grants (the code deployment waits for them)."""
    principal = fn.app.identity.apply(lambda i: i.principal_id if i else "")
    base = cfg.base_name
    queue_role = "Storage Queue Data Contributor"
    blob_role = "Storage Blob Data Contributor"
    for label, queue in (("work-queue", data.work_queue), ("poison-queue", data.poison_queue)):
        assign_role(
            f"{base}-fn-{label}",
            ctx,
            role=queue_role,
            principal_id=principal,
            scope=queue.id,
            parent=parent,
        )
    containers = []
    for name, container in (*data.containers.items(), ("payloads", data.payloads)):
        grant = assign_role(
            f"{base}-fn-{name}",
            ctx,
            role=blob_role,
            principal_id=principal,
            scope=container.id,
            parent=parent,
        )
        containers.append(grant)
    if fn.monitoring.scope is not None:
        assign_role(
            f"{base}-fn-telemetry",
            ctx,
            role="Monitoring Metrics Publisher",
            principal_id=principal,
            scope=fn.monitoring.scope,
            parent=parent,
        )
    if cfg.tool_secrets and fn.vault is not None:
        # Tool secrets are named at run time (paddock-<api>-<scheme>): the vault, which holds
        # only this stack's secrets, is the narrowest scope.
        assign_role(
            f"{base}-fn-vault",
            ctx,
            role="Key Vault Secrets User",
            principal_id=principal,
            scope=fn.vault.id,
            parent=parent,
        )
    else:
        for i, secret in enumerate(fn.secrets):
            assign_role(
                f"{base}-fn-secret-{i}",
                ctx,
                role="Key Vault Secrets User",
                principal_id=principal,
                scope=secret.id,
                parent=parent,
            )
    if cfg.llm.provider == "azure-openai" and cfg.llm.azure_openai_resource_id:
        assign_role(
            f"{base}-fn-openai",
            ctx,
            role="Cognitive Services OpenAI User",
            principal_id=principal,
            scope=cfg.llm.azure_openai_resource_id,
            parent=parent,
        )
    grant_table(cfg, ctx, data, principal, "fn", parent)
    return containers


def grant_table(
    cfg: InfraConfig,
    ctx: AzureContext,
    data: AzureData,
    principal: pulumi.Input[str],
    who: str,
    parent: pulumi.Resource,
) -> None:
    """Read/write on the runs table.

    Cosmos DB for Table does not honour the Storage Table data roles; it has its own data-plane
    RBAC (``tableRoleAssignments``) whose built-in "Cosmos DB Built-in Data Contributor" covers
    entity reads, writes and queries. That assignment is scoped to the Cosmos account, which
    holds only the runs table. On Table Storage the Azure RBAC role is scoped to the table.
    """
    name = f"{cfg.base_name}-{who}-runs-table"
    if data.cosmos is None:
        assign_role(
            name,
            ctx,
            role="Storage Table Data Contributor",
            principal_id=principal,
            scope=data.table_id,
            parent=parent,
        )
        return
    account = data.cosmos
    azure_native.cosmosdb.TableResourceTableRoleAssignment(
        name,
        account_name=account.name,
        resource_group_name=ctx.resource_group.name,
        role_assignment_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"paddock/{name}")),
        role_definition_id=pulumi.Output.concat(
            account.id, "/tableRoleDefinitions/", COSMOS_TABLE_DATA_CONTRIBUTOR
        ),
        principal_id=principal,
        scope=account.id,
        opts=pulumi.ResourceOptions(parent=parent),
    )


def aws_workload_identity(
    cfg: InfraConfig,
    ctx: AzureContext,
    data: AzureData,
    parent: pulumi.Resource,
) -> azure_native.managedidentity.UserAssignedIdentity:
    """The identity AWS workers become in Entra: hand-off rights plus configured tool roles."""
    base = cfg.base_name
    identity = azure_native.managedidentity.UserAssignedIdentity(
        f"{base}-aws-workload",
        resource_name_=f"{base}-aws-workload",
        resource_group_name=ctx.resource_group.name,
        location=ctx.location,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    principal = identity.principal_id
    assign_role(
        f"{base}-aws-work-queue",
        ctx,
        role="Storage Queue Data Message Sender",
        principal_id=principal,
        scope=data.work_queue.id,
        parent=identity,
    )
    assign_role(
        f"{base}-aws-payloads",
        ctx,
        role="Storage Blob Data Contributor",
        principal_id=principal,
        scope=data.payloads.id,
        parent=identity,
    )
    grant_table(cfg, ctx, data, principal, "aws", identity)
    for i, grant in enumerate(cfg.azure.tool_grants):
        azure_native.authorization.RoleAssignment(
            f"{base}-aws-tool-{i}",
            principal_id=principal,
            principal_type="ServicePrincipal",
            role_definition_id=pulumi.Output.concat(
                "/subscriptions/",
                ctx.subscription_id,
                "/providers/Microsoft.Authorization/roleDefinitions/",
                grant.role_definition_id,
            ),
            scope=grant.scope,
            description="paddock: configured tool grant",
            opts=pulumi.ResourceOptions(parent=identity),
        )
    return identity


def trust_aws_worker(
    cfg: InfraConfig,
    ctx: AzureContext,
    identity: azure_native.managedidentity.UserAssignedIdentity,
    aws: AwsPeer,
) -> azure_native.managedidentity.FederatedIdentityCredential:
    """Entra accepts the AWS worker role's outbound token (iss + sub) for this identity."""
    return azure_native.managedidentity.FederatedIdentityCredential(
        f"{cfg.base_name}-aws-worker-credential",
        resource_name_=identity.name,
        resource_group_name=ctx.resource_group.name,
        federated_identity_credential_resource_name="aws-worker",
        issuer=aws.token_issuer,
        subject=aws.worker_role_arn,
        audiences=[ENTRA_TOKEN_AUDIENCE],
        opts=pulumi.ResourceOptions(parent=identity),
    )
