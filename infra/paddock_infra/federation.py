"""Cross-cloud wiring: names known up front, and what each cloud tells the other.

The Azure Function App must know the AWS role it will assume before that role exists, and the
AWS role must trust the Function App's identity, which only exists after Azure is deployed.
Explicit AWS names break the cycle: role, queue, table and bucket names (and so their ARNs and
URLs) are computed from the stack name, the account id and the partition, then used both by
the Azure settings and by the AWS resources that carry exactly those names.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from paddock_infra.config import InfraConfig


@dataclass(frozen=True)
class AwsNames:
    """Explicit AWS resource names and the ARNs/URLs derived from them."""

    base: str
    region: str
    account_id: pulumi.Output[str]
    partition: pulumi.Output[str]
    dns_suffix: pulumi.Output[str]

    @property
    def table(self) -> str:
        return f"{self.base}-state"

    @property
    def queue(self) -> str:
        return f"{self.base}-work"

    @property
    def dlq(self) -> str:
        return f"{self.base}-work-dlq"

    @property
    def http_function(self) -> str:
        return f"{self.base}-http"

    @property
    def worker_function(self) -> str:
        return f"{self.base}-worker"

    @property
    def tools_role(self) -> str:
        return f"{self.base}-tools"

    @property
    def azure_workload_role(self) -> str:
        return f"{self.base}-azure-workload"

    @property
    def bucket(self) -> pulumi.Output[str]:
        # Bucket names are global: the account id keeps two accounts' stacks apart.
        return pulumi.Output.concat(self.base, "-payloads-", self.account_id)

    @property
    def secrets_prefix(self) -> str:
        """Secrets Manager names this stack's workers read: ``<prefix>-<stack>/paddock/...``."""
        return f"{self.base}/"

    @property
    def secrets_arn_pattern(self) -> pulumi.Output[str]:
        # Secrets Manager appends "-" and six random characters to every secret ARN, so a
        # secret cannot be named exactly before it exists: the prefix is the narrowest grant.
        return pulumi.Output.concat(
            "arn:",
            self.partition,
            ":secretsmanager:",
            self.region,
            ":",
            self.account_id,
            ":secret:",
            self.secrets_prefix,
            "*",
        )

    def role_arn(self, role_name: str) -> pulumi.Output[str]:
        return pulumi.Output.concat(
            "arn:", self.partition, ":iam::", self.account_id, ":role/", role_name
        )

    @property
    def queue_url(self) -> pulumi.Output[str]:
        return pulumi.Output.concat(
            "https://sqs.", self.region, ".", self.dns_suffix, "/", self.account_id, "/", self.queue
        )


@dataclass(frozen=True)
class AwsPeer:
    """What the Azure side needs to reach AWS: the role to assume and the hand-off targets."""

    region: str
    role_arn: pulumi.Input[str]
    queue_url: pulumi.Input[str]
    table_name: str
    bucket_name: pulumi.Input[str]
    token_issuer: pulumi.Input[str]
    """Issuer of the AWS worker's outbound tokens (the federated credential trusts it)."""
    worker_role_arn: pulumi.Input[str]
    """The ``sub`` of those tokens: the AWS worker's role ARN."""


@dataclass(frozen=True)
class AzurePeer:
    """What the AWS side needs to reach Azure: whom to trust and the hand-off targets."""

    tenant_id: pulumi.Input[str]
    principal_id: pulumi.Input[str]
    """The Function App's system-assigned identity: the ``sub`` of its Entra tokens."""
    token_audience: str
    entra_client_id: pulumi.Input[str]
    """The user-assigned identity the AWS worker federates into."""
    queue_endpoint: pulumi.Input[str]
    queue_name: str
    table_endpoint: pulumi.Input[str]
    table_name: str
    blob_endpoint: pulumi.Input[str]
    blob_container: str


def entra_issuer(tenant_id: pulumi.Input[str]) -> pulumi.Output[str]:
    """Issuer of Entra v1 access tokens, which managed identities receive by default."""
    return pulumi.Output.concat("https://sts.windows.net/", tenant_id, "/")


def aws_names(cfg: InfraConfig, provider: aws.Provider) -> AwsNames:
    """Look up the account and partition once and derive every explicit name from them."""
    invoke = pulumi.InvokeOutputOptions(provider=provider)
    identity = aws.get_caller_identity_output(opts=invoke)
    partition = aws.get_partition_output(opts=invoke)
    return AwsNames(
        base=cfg.base_name,
        region=cfg.aws.region,
        account_id=identity.account_id,
        partition=partition.partition,
        dns_suffix=partition.dns_suffix,
    )


def aws_outbound_issuer(cfg: InfraConfig, provider: aws.Provider) -> pulumi.Output[str]:
    """The account's outbound web identity issuer URL, enabling the feature when not given.

    Outbound federation is an account-wide switch: it is retained on ``pulumi destroy`` so that
    tearing down one stack never breaks other workloads of the account that rely on it.
    """
    if cfg.aws.outbound_issuer:
        return pulumi.Output.from_input(cfg.aws.outbound_issuer)
    enabled = aws.iam.OutboundWebIdentityFederation(
        f"{cfg.base_name}-outbound-federation",
        opts=pulumi.ResourceOptions(provider=provider, retain_on_delete=True),
    )
    return enabled.issuer_identifier
