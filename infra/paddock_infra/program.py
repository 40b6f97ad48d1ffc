"""Compose the stack from config: providers, the per-cloud components, the cross-cloud links."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_azure_native as azure_native

from paddock_infra.aws import AwsStack
from paddock_infra.azure import AzureStack
from paddock_infra.config import InfraConfig, InfraConfigError, load_config
from paddock_infra.federation import (
    AwsNames,
    AwsPeer,
    AzurePeer,
    aws_names,
    aws_outbound_issuer,
)
from paddock_infra.packaging import Bundle, Package, compose, load_bundles, workflow_names

Outputs = dict[str, pulumi.Input[Any]]


def build(cfg: InfraConfig) -> Outputs:
    """Create every resource ``cfg`` asks for and return the stack outputs."""
    outputs: Outputs = {}
    aws_provider = names = None
    bundles = load_bundles(cfg.workflows, Path.cwd())
    if bundles:
        outputs["workflows"] = pulumi.Output.from_input(workflow_names(bundles))
    aws_package = azure_package = None
    if cfg.deploy_aws:
        aws_package = _package(cfg, "awsLambdaPackage", cfg.aws.lambda_package, bundles)
    if cfg.deploy_azure:
        azure_package = _package(cfg, "azureFunctionPackage", cfg.azure.function_package, bundles)
    if cfg.deploy_aws:
        aws_provider = aws.Provider(
            "aws",
            region=cfg.aws.region,
            default_tags={"tags": {"app": "paddock", "stack": cfg.stack}},
        )
        names = aws_names(cfg, aws_provider)
    azure_stack = None
    if cfg.deploy_azure:
        azure_provider = azure_native.Provider("azure-native", location=cfg.azure.location)
        peer = _aws_peer(cfg, names, aws_provider) if cfg.federate else None
        assert azure_package is not None
        azure_stack = AzureStack(
            "azure",
            cfg,
            package=azure_package,
            aws=peer,
            opts=pulumi.ResourceOptions(providers=[azure_provider]),
        )
        outputs.update(_azure_outputs(azure_stack))
    if cfg.deploy_aws:
        assert names is not None and aws_provider is not None and aws_package is not None
        azure_peer = _azure_peer(cfg, azure_stack) if azure_stack and cfg.federate else None
        aws_stack = AwsStack(
            "aws",
            cfg,
            names,
            package=aws_package,
            azure=azure_peer,
            opts=pulumi.ResourceOptions(providers=[aws_provider]),
        )
        outputs.update(_aws_outputs(aws_stack))
    return outputs


def main() -> None:
    """The Pulumi program: read config, build, export."""
    for key, value in build(load_config()).items():
        pulumi.export(key, value)


def _package(cfg: InfraConfig, key: str, base: str, bundles: tuple[Bundle, ...]) -> Package:
    """The package built by scripts/package, with the stack's workflow bundles added."""
    path = Path(base)
    if not path.is_file():
        raise InfraConfigError(
            f"package {base!r} not found: run scripts/package first, or set paddock:{key}"
        )
    return compose(path, bundles, path.parent / f"stack-{cfg.stack}" / path.name)


def _aws_peer(cfg: InfraConfig, names: AwsNames | None, provider: aws.Provider | None) -> AwsPeer:
    assert names is not None and provider is not None
    return AwsPeer(
        region=cfg.aws.region,
        role_arn=names.role_arn(names.azure_workload_role),
        queue_url=names.queue_url,
        table_name=names.table,
        bucket_name=names.bucket,
        token_issuer=aws_outbound_issuer(cfg, provider),
        worker_role_arn=names.role_arn(names.worker_function),
    )


def _azure_peer(cfg: InfraConfig, stack: AzureStack) -> AzurePeer:
    assert stack.aws_workload_client_id is not None
    return AzurePeer(
        tenant_id=stack.tenant_id,
        principal_id=stack.principal_id,
        token_audience=cfg.azure.aws_token_audience,
        entra_client_id=stack.aws_workload_client_id,
        queue_endpoint=stack.queue_endpoint,
        queue_name=cfg.azure.queue_name,
        table_endpoint=stack.table_endpoint,
        table_name=cfg.azure.table_name,
        blob_endpoint=stack.blob_endpoint,
        blob_container=cfg.azure.blob_container,
    )


def _aws_outputs(stack: AwsStack) -> Outputs:
    outputs: Outputs = {
        "awsApiUrl": stack.api_url,
        "awsQueueName": stack.queue_name,
        "awsQueueUrl": stack.queue_url,
        "awsDeadLetterQueueName": stack.dlq_name,
        "awsTableName": stack.table_name,
        "awsPayloadBucket": stack.bucket_name,
        "awsWorkerRoleArn": stack.worker_role_arn,
        "awsToolsRoleArn": stack.tools_role_arn,
        "awsCodeBucket": stack.code_bucket,
        "awsCodeKey": stack.code_key,
        "awsEventBusName": stack.event_bus_name,
    }
    if stack.azure_workload_role_arn is not None:
        outputs["awsAzureWorkloadRoleArn"] = stack.azure_workload_role_arn
    if stack.secrets_prefix is not None:
        outputs["awsSecretsPrefix"] = stack.secrets_prefix
    return outputs


def _azure_outputs(stack: AzureStack) -> Outputs:
    outputs: Outputs = {
        "azureApiUrl": stack.api_url,
        "azureQueueName": stack.queue_name,
        "azurePoisonQueueName": stack.poison_queue_name,
        "azureTableName": stack.table_name,
        "azureTableEndpoint": stack.table_endpoint,
        "azureResourceGroup": stack.resource_group_name,
        "azureFunctionAppName": stack.function_app_name,
        "azurePackageUrl": stack.package_url,
        "azureEventTopicEndpoint": stack.event_topic_endpoint,
    }
    if stack.aws_workload_client_id is not None:
        outputs["azureAwsWorkloadClientId"] = stack.aws_workload_client_id
    if stack.key_vault_name is not None and stack.key_vault_url is not None:
        outputs["azureKeyVaultName"] = stack.key_vault_name
        outputs["azureKeyVaultUrl"] = stack.key_vault_url
    return outputs
