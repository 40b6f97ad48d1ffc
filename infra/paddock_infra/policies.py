"""IAM policy documents as plain data: one function per role, testable without Pulumi.

Every function takes resolved ARNs (strings) and returns a policy document dict. Allow
statements name exact actions on exact resources. Where AWS has no narrower resource for an
action, the statement's ``Sid`` says so and ``STAR_RESOURCE_ACTIONS`` explains why.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # config imports modules that build policies: no import cycle at run time
    from paddock_infra.config import ToolGrant

VERSION = "2012-10-17"
Document = dict[str, Any]
Statement = dict[str, Any]

STAR_RESOURCE_ACTIONS = {
    "xray:PutTraceSegments": "X-Ray has no resource-level permissions: Resource must be '*'.",
    "xray:PutTelemetryRecords": "X-Ray has no resource-level permissions: Resource must be '*'.",
    "sts:GetWebIdentityToken": "STS outbound federation has no resource type; the statement is "
    "narrowed by a condition on sts:IdentityTokenAudience instead.",
}
"""Actions AWS only authorises on ``Resource: "*"``, and why."""

DYNAMODB_ITEM_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:BatchWriteItem",
)
"""Item access for the single-table store (TransactWriteItems is authorised per item action)."""
ENTRA_TOKEN_AUDIENCE = "api://AzureADTokenExchange"
"""The audience Entra ID expects on a federated credential's external token."""


@dataclass(frozen=True)
class StoreArns:
    """The state a function reads and writes: the table, its indexes, the payload objects."""

    table: str
    indexes: tuple[str, ...]
    payload_objects: str
    """``arn:aws:s3:::<bucket>/runs/*``: claim-check keys are content hashes made at run time."""


def document(statements: Iterable[Statement]) -> Document:
    return {"Version": VERSION, "Statement": list(statements)}


def allow(
    sid: str,
    actions: Sequence[str],
    resources: Sequence[str],
    condition: dict[str, Any] | None = None,
) -> Statement:
    stmt: Statement = {
        "Sid": sid,
        "Effect": "Allow",
        "Action": list(actions),
        "Resource": list(resources),
    }
    if condition:
        stmt["Condition"] = condition
    return stmt


def lambda_trust() -> Document:
    """Who may assume a function role: the Lambda service only."""
    return document(
        [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ]
    )


def _logs(log_group_arn: str) -> Statement:
    # Stream names are chosen by Lambda at run time, so streams are matched inside the group.
    return allow(
        "WriteOwnLogGroup",
        ["logs:CreateLogStream", "logs:PutLogEvents"],
        [log_group_arn, f"{log_group_arn}:log-stream:*"],
    )


def _xray() -> Statement:
    return allow(
        "XRayNoResourceLevel", ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], ["*"]
    )


def _store(arns: StoreArns) -> list[Statement]:
    return [
        allow("StateTable", DYNAMODB_ITEM_ACTIONS, [arns.table]),
        allow("StateIndexes", ["dynamodb:Query"], list(arns.indexes)),
        allow("PayloadObjects", ["s3:GetObject", "s3:PutObject"], [arns.payload_objects]),
    ]


def http_function_policy(
    store: StoreArns, *, queue_arn: str, log_group_arn: str, xray: bool = True
) -> Document:
    """The HTTP API function: read/write state, enqueue work, write its own logs."""
    statements = [
        *_store(store),
        allow("EnqueueWork", ["sqs:SendMessage", "sqs:GetQueueAttributes"], [queue_arn]),
        _logs(log_group_arn),
    ]
    if xray:
        statements.append(_xray())
    return document(statements)


def worker_function_policy(
    store: StoreArns,
    *,
    queue_arn: str,
    log_group_arn: str,
    tools_role_arn: str,
    federate_to_entra: bool = False,
    secrets_arn_pattern: str | None = None,
    xray: bool = True,
) -> Document:
    """The queue worker: consume and re-enqueue work, state, assume the tools role, and (with
    ``secrets_arn_pattern``, ``arn:...:secret:<prefix>-<stack>/*``) read this stack's tool
    secrets: no other secret of the account, and no listing or writing."""
    statements = [
        *_store(store),
        allow(
            "ConsumeAndEnqueueWork",
            [
                "sqs:ReceiveMessage",
                "sqs:DeleteMessage",
                "sqs:ChangeMessageVisibility",
                "sqs:GetQueueAttributes",
                "sqs:SendMessage",
            ],
            [queue_arn],
        ),
        allow("AssumeToolsRole", ["sts:AssumeRole"], [tools_role_arn]),
        _logs(log_group_arn),
    ]
    if secrets_arn_pattern is not None:
        statements.append(
            allow("ReadStackToolSecrets", ["secretsmanager:GetSecretValue"], [secrets_arn_pattern])
        )
    if federate_to_entra:
        statements.append(
            allow(
                "EntraTokenNoResourceType",
                ["sts:GetWebIdentityToken"],
                ["*"],
                {
                    "ForAllValues:StringEquals": {
                        "sts:IdentityTokenAudience": [ENTRA_TOKEN_AUDIENCE]
                    }
                },
            )
        )
    if xray:
        statements.append(_xray())
    return document(statements)


def tools_role_trust(worker_role_arn: str) -> Document:
    """The tools role is assumed by the AWS worker only (with a per-call session policy)."""
    return document(
        [{"Effect": "Allow", "Principal": {"AWS": worker_role_arn}, "Action": "sts:AssumeRole"}]
    )


def tool_grants_policy(grants: Sequence[ToolGrant]) -> Document | None:
    """The ceiling of what any per-call session policy can grant; ``None`` when empty."""
    if not grants:
        return None
    return document(allow(f"ToolGrant{i}", g.actions, g.resources) for i, g in enumerate(grants))


def azure_workload_trust(
    provider_arn: str, issuer_host: str, audience: str, principal_id: str
) -> Document:
    """Azure's Function App identity, by web identity, with its token's ``aud`` and ``sub``."""
    return document(
        [
            {
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{issuer_host}:aud": audience,
                        f"{issuer_host}:sub": principal_id,
                    }
                },
            }
        ]
    )


def azure_workload_policy(
    store: StoreArns, *, queue_arn: str, grants: Sequence[ToolGrant]
) -> Document:
    """Hand-off into AWS (enqueue, shared run state) plus the configured tool grants."""
    statements = [*_store(store), allow("HandOffToAwsWorker", ["sqs:SendMessage"], [queue_arn])]
    statements += [allow(f"ToolGrant{i}", g.actions, g.resources) for i, g in enumerate(grants)]
    return document(statements)


def deny_insecure_transport(service: str, resources: Sequence[str]) -> Document:
    """Resource policy refusing every request that is not over TLS."""
    # A Deny widens nothing: "<service>:*" here closes every action over plain HTTP.
    return document(
        [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": f"{service}:*",
                "Resource": list(resources),
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ]
    )
