"""``AwsStack``: Paddock on AWS as one component resource."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from paddock_infra import events, policies
from paddock_infra._aws_api import build_api
from paddock_infra._aws_code import build_code
from paddock_infra._aws_compute import build_compute
from paddock_infra._aws_data import AwsData, build_data
from paddock_infra._aws_network import build_network
from paddock_infra.config import InfraConfig
from paddock_infra.federation import AwsNames, AzurePeer, entra_issuer
from paddock_infra.packaging import Package


class AwsStack(pulumi.ComponentResource):
    """DynamoDB state, S3 payloads, SQS work queue + DLQ, two Lambdas behind an HTTP API.

    Args:
        name: the component's logical name.
        cfg: the stack configuration.
        names: explicit AWS names (shared with the Azure side).
        package: the Lambda package to upload (scripts/package plus the workflow bundles).
        azure: when given, the Azure Function App's identity may assume a role here by web
            identity, and the worker is told how to federate into Entra and hand off to Azure.
        opts: resource options; pass the AWS provider here.
    """

    api_url: pulumi.Output[str]
    queue_name: pulumi.Output[str]
    queue_url: pulumi.Output[str]
    dlq_name: pulumi.Output[str]
    table_name: pulumi.Output[str]
    bucket_name: pulumi.Output[str]
    worker_role_arn: pulumi.Output[str]
    event_bus_name: pulumi.Output[str]
    """The EventBridge bus run events are put on (docs/events.md)."""
    tools_role_arn: pulumi.Output[str]
    code_bucket: pulumi.Output[str]
    code_key: pulumi.Output[str]
    """Where the functions' code is (``lambda/aws-lambda-<sha256[:16]>.zip``)."""
    azure_workload_role_arn: pulumi.Output[str] | None
    secrets_prefix: str | None
    """Secrets Manager names the worker reads (``paddock:toolSecrets``), or ``None``."""

    def __init__(
        self,
        name: str,
        cfg: InfraConfig,
        names: AwsNames,
        *,
        package: Package,
        azure: AzurePeer | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("paddock:aws:AwsStack", name, None, opts)
        data = build_data(cfg, names, self)
        code = build_code(names, package, self)
        networking = build_network(cfg, names, self)
        bus = events.event_bus(names, self)
        compute = build_compute(
            cfg,
            names,
            data,
            self,
            code=code,
            networking=networking,
            azure=azure,
            events_env={events.BUS_VARIABLE: bus.name},
        )
        events.grant_put_events(names, compute.worker_role, bus)
        self.event_bus_name = bus.name
        api = build_api(cfg, names, compute.http, self)
        self.api_url = api.api_endpoint
        self.queue_name = data.queue.name
        self.queue_url = data.queue.url
        self.dlq_name = data.dlq.name
        self.table_name = data.table.name
        self.bucket_name = data.bucket.bucket
        self.worker_role_arn = compute.worker_role.arn
        self.tools_role_arn = compute.tools_role.arn
        self.secrets_prefix = names.secrets_prefix if cfg.tool_secrets else None
        self.code_bucket = code.bucket.bucket
        self.code_key = code.object.key
        self.azure_workload_role_arn = None
        if azure is not None:
            self.azure_workload_role_arn = self._azure_workload_role(cfg, names, data, azure)
        self.register_outputs(
            {
                "api_url": self.api_url,
                "queue_name": self.queue_name,
                "table_name": self.table_name,
                "bucket_name": self.bucket_name,
                "worker_role_arn": self.worker_role_arn,
            }
        )

    def _azure_workload_role(
        self, cfg: InfraConfig, names: AwsNames, data: AwsData, azure: AzurePeer
    ) -> pulumi.Output[str]:
        """OIDC provider for the Entra tenant and the role its Function App identity assumes."""
        issuer = entra_issuer(azure.tenant_id)
        provider = aws.iam.OpenIdConnectProvider(
            f"{names.base}-entra-oidc",
            url=issuer,
            client_id_lists=[azure.token_audience],
            opts=pulumi.ResourceOptions(parent=self),
        )
        trust = pulumi.Output.all(provider.arn, issuer, azure.principal_id).apply(
            lambda a: json.dumps(
                policies.azure_workload_trust(
                    a[0], a[1].removeprefix("https://"), azure.token_audience, a[2]
                )
            )
        )
        role = aws.iam.Role(
            f"{names.base}-azure-workload-role",
            name=names.azure_workload_role,
            assume_role_policy=trust,
            max_session_duration=3600,
            opts=pulumi.ResourceOptions(parent=self),
        )
        store = pulumi.Output.all(data.table.arn, data.index_arns(), data.payload_objects_arn)
        aws.iam.RolePolicy(
            f"{names.base}-azure-workload-policy",
            role=role.id,
            policy=pulumi.Output.all(store, data.queue.arn).apply(
                lambda a: json.dumps(
                    policies.azure_workload_policy(
                        policies.StoreArns(
                            table=a[0][0], indexes=tuple(a[0][1]), payload_objects=a[0][2]
                        ),
                        queue_arn=a[1],
                        grants=cfg.aws.tool_grants,
                    )
                )
            ),
            opts=pulumi.ResourceOptions(parent=role),
        )
        return role.arn
