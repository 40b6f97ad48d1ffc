"""Shared Azure helpers: built-in role ids, scoped role assignments, global names."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure_native

ROLE_IDS = {
    "Storage Queue Data Contributor": "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
    "Storage Queue Data Message Sender": "c6a89b2d-59bc-44d0-9896-0f6e12d7b80a",
    "Storage Blob Data Contributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    "Storage Table Data Contributor": "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
    "Monitoring Metrics Publisher": "3913510d-42f4-4e42-8a64-420c390055eb",
    "Key Vault Secrets User": "4633458b-17de-408a-b874-0445c86b69e6",
    "Cognitive Services OpenAI User": "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd",
    "EventGrid Data Sender": "d5a91429-5739-47e2-a06b-3470a27159e7",
}
"""Azure built-in role definition GUIDs (the same in every tenant)."""
COSMOS_TABLE_DATA_CONTRIBUTOR = "00000000-0000-0000-0000-000000000002"
"""Cosmos DB for Table's own built-in data-plane role (not an Azure RBAC role)."""


@dataclass(frozen=True)
class AzureContext:
    """Deployment-wide facts: the subscription, the tenant, the resource group."""

    subscription_id: pulumi.Output[str]
    tenant_id: pulumi.Output[str]
    resource_group: azure_native.resources.ResourceGroup
    location: str


def role_definition_id(ctx: AzureContext, role: str) -> pulumi.Output[str]:
    return pulumi.Output.concat(
        "/subscriptions/",
        ctx.subscription_id,
        "/providers/Microsoft.Authorization/roleDefinitions/",
        ROLE_IDS[role],
    )


def assign_role(
    name: str,
    ctx: AzureContext,
    *,
    role: str,
    principal_id: pulumi.Input[str],
    scope: pulumi.Input[str],
    parent: pulumi.Resource,
) -> azure_native.authorization.RoleAssignment:
    """Grant ``role`` to a service principal on exactly one resource (``scope``)."""
    return azure_native.authorization.RoleAssignment(
        name,
        principal_id=principal_id,
        principal_type="ServicePrincipal",
        role_definition_id=role_definition_id(ctx, role),
        scope=scope,
        description=f"paddock: {role}",
        opts=pulumi.ResourceOptions(parent=parent),
    )


def global_name(
    ctx: AzureContext, base: str, kind: str, *, max_len: int, alnum: bool = False
) -> pulumi.Output[str]:
    """A globally unique, deterministic name: readable stem plus a hash of subscription+stem.

    Storage accounts, Cosmos accounts, Key Vaults and Function Apps share DNS namespaces with
    every Azure customer; the hash keeps two subscriptions' stacks of the same name apart.
    """

    def make(subscription: str) -> str:
        digest = hashlib.sha256(f"{subscription}/{base}/{kind}".encode()).hexdigest()[:8]
        stem, sep = f"{base}-{kind}", "-"
        if alnum:
            stem, sep = "".join(c for c in stem if c.isalnum()), ""
        room = max_len - len(digest) - len(sep)
        return stem[:room].rstrip("-") + sep + digest

    return ctx.subscription_id.apply(make)
