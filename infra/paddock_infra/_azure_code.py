"""The Function App's code: the package uploaded to the ``deployments`` container, then run.

Flex Consumption reads ``released-package.zip`` from its deployment storage with the app's
managed identity, and the ``onedeploy`` site extension deploys it; the extension is replaced
whenever the package's SHA-256 changes, and left alone otherwise. On Linux Consumption the
blob's name carries the SHA-256 and ``WEBSITE_RUN_FROM_PACKAGE`` points at it (fetched with the
app's identity): a new package is a new URL, which restarts the app on the new code.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_azure_native as azure_native

from paddock_infra._azure_common import AzureContext, role_definition_id
from paddock_infra._azure_data import DEPLOYMENT_CONTAINER, AzureData
from paddock_infra._blob_upload import PackageBlob
from paddock_infra.config import InfraConfig
from paddock_infra.packaging import Package

FLEX_PACKAGE_BLOB = "released-package.zip"
"""The blob name Flex Consumption's one-deploy reads from the deployment container."""
ONEDEPLOY_API_VERSION = "2024-04-01"


def package_blob_name(cfg: InfraConfig, package: Package) -> str:
    """Flex: the fixed name one-deploy reads; Consumption: one name per package content."""
    if cfg.azure.plan == "flex":
        return FLEX_PACKAGE_BLOB
    return package.key("azure-functionapp")


def package_url(cfg: InfraConfig, data: AzureData, package: Package) -> pulumi.Output[str]:
    return pulumi.Output.concat(
        data.account.primary_endpoints.blob,
        DEPLOYMENT_CONTAINER,
        "/",
        package_blob_name(cfg, package),
    )


def upload_package(
    cfg: InfraConfig,
    ctx: AzureContext,
    data: AzureData,
    package: Package,
    deployer_id: pulumi.Input[str],
    parent: pulumi.Resource,
) -> PackageBlob:
    """Let the deployer write the deployments container (only it), then upload the package."""
    container = data.containers[DEPLOYMENT_CONTAINER]
    grant = azure_native.authorization.RoleAssignment(
        f"{cfg.base_name}-deployer-deployments",
        principal_id=deployer_id,
        principal_type="User" if cfg.azure.deployer_type == "user" else "ServicePrincipal",
        role_definition_id=role_definition_id(ctx, "Storage Blob Data Contributor"),
        scope=container.id,
        description="paddock: pulumi up uploads the Function App package",
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return PackageBlob(
        f"{cfg.base_name}-function-package",
        url=package_url(cfg, data, package),
        path=str(package.path),
        sha256=package.sha256,
        opts=pulumi.ResourceOptions(parent=container, depends_on=[grant]),
    )


def deploy_flex(
    cfg: InfraConfig,
    ctx: AzureContext,
    app: azure_native.web.WebApp,
    blob: PackageBlob,
    package: Package,
    depends_on: Sequence[pulumi.Resource],
) -> azure_native.resources.Resource:
    """The ``onedeploy`` extension: deploys the uploaded package; a new SHA-256 replaces it."""
    return azure_native.resources.Resource(
        f"{cfg.base_name}-onedeploy",
        resource_group_name=ctx.resource_group.name,
        resource_provider_namespace="Microsoft.Web",
        parent_resource_path=pulumi.Output.concat("sites/", app.name),
        resource_type="extensions",
        resource_name_="onedeploy",
        api_version=ONEDEPLOY_API_VERSION,
        properties={"packageUri": blob.url, "remoteBuild": False},
        opts=pulumi.ResourceOptions(
            parent=app,
            depends_on=[blob, *depends_on],
            replacement_trigger=package.sha256,
        ),
    )
