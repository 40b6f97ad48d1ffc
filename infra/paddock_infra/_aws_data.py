"""AWS data plane: the state table, the payload bucket, the work queue with its DLQ and alarm."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from paddock_infra import policies
from paddock_infra._aws_bucket import private_bucket
from paddock_infra.config import InfraConfig
from paddock_infra.federation import AwsNames

TTL_ATTRIBUTE = "expires_at"
STATUS_INDEX = "by_status"
TENANT_INDEX = "by_tenant"
# Must match core/state/dynamodb.py (create_dynamodb_table): PK/SK, two GSIs sharing LSK.
_KEY_ATTRIBUTES = ("PK", "SK", "GSI1PK", "GSI2PK", "LSK")
_INDEXES = ((STATUS_INDEX, "GSI1PK"), (TENANT_INDEX, "GSI2PK"))
PAYLOAD_PREFIX = "runs/"


@dataclass
class AwsData:
    table: aws.dynamodb.Table
    bucket: aws.s3.Bucket
    queue: aws.sqs.Queue
    dlq: aws.sqs.Queue
    alarm_topic: aws.sns.Topic

    def index_arns(self) -> pulumi.Output[list[str]]:
        return self.table.arn.apply(lambda arn: [f"{arn}/index/{n}" for n, _ in _INDEXES])

    @property
    def payload_objects_arn(self) -> pulumi.Output[str]:
        return pulumi.Output.concat(self.bucket.arn, "/", PAYLOAD_PREFIX, "*")


def build_data(cfg: InfraConfig, names: AwsNames, parent: pulumi.Resource) -> AwsData:
    opts = pulumi.ResourceOptions(parent=parent)
    table = _table(names, opts)
    bucket = _bucket(cfg, names, opts)
    dlq, queue = _queues(cfg, names, opts)
    topic = _dlq_alarm(cfg, names, dlq, opts)
    return AwsData(table=table, bucket=bucket, queue=queue, dlq=dlq, alarm_topic=topic)


def _table(names: AwsNames, opts: pulumi.ResourceOptions) -> aws.dynamodb.Table:
    return aws.dynamodb.Table(
        names.table,
        name=names.table,
        billing_mode="PAY_PER_REQUEST",
        hash_key="PK",
        range_key="SK",
        attributes=[{"name": n, "type": "S"} for n in _KEY_ATTRIBUTES],
        global_secondary_indexes=[
            {"name": index, "hash_key": pk, "range_key": "LSK", "projection_type": "ALL"}
            for index, pk in _INDEXES
        ],
        point_in_time_recovery={"enabled": True},
        ttl={"attribute_name": TTL_ATTRIBUTE, "enabled": True},
        server_side_encryption={"enabled": True},
        deletion_protection_enabled=False,
        opts=opts,
    )


def _bucket(cfg: InfraConfig, names: AwsNames, opts: pulumi.ResourceOptions) -> aws.s3.Bucket:
    name = f"{names.base}-payloads"
    bucket = aws.s3.Bucket(name, bucket=names.bucket, force_destroy=False, opts=opts)
    child = private_bucket(name, bucket)
    aws.s3.BucketLifecycleConfiguration(
        f"{name}-lifecycle",
        bucket=bucket.id,
        rules=[
            {
                "id": "expire-run-payloads",
                "status": "Enabled",
                "filter": {"prefix": PAYLOAD_PREFIX},
                "expiration": {"days": cfg.aws.payload_expiration_days},
                "abort_incomplete_multipart_upload": {"days_after_initiation": 1},
            }
        ],
        opts=child,
    )
    aws.s3.BucketPolicy(
        f"{name}-tls-only",
        bucket=bucket.id,
        policy=pulumi.Output.all(bucket.arn).apply(
            lambda a: json.dumps(policies.deny_insecure_transport("s3", [a[0], f"{a[0]}/*"]))
        ),
        opts=child,
    )
    return bucket


def _queues(
    cfg: InfraConfig, names: AwsNames, opts: pulumi.ResourceOptions
) -> tuple[aws.sqs.Queue, aws.sqs.Queue]:
    dlq = aws.sqs.Queue(
        names.dlq,
        name=names.dlq,
        sqs_managed_sse_enabled=True,
        message_retention_seconds=14 * 24 * 3600,
        opts=opts,
    )
    # AWS advises a visibility timeout of six times the function timeout for SQS triggers.
    visibility = min(6 * cfg.aws.worker_timeout, 12 * 3600)
    queue = aws.sqs.Queue(
        names.queue,
        name=names.queue,
        sqs_managed_sse_enabled=True,
        visibility_timeout_seconds=visibility,
        message_retention_seconds=4 * 24 * 3600,
        redrive_policy=dlq.arn.apply(
            lambda arn: json.dumps(
                {"deadLetterTargetArn": arn, "maxReceiveCount": cfg.aws.max_receive_count}
            )
        ),
        opts=opts,
    )
    aws.sqs.RedriveAllowPolicy(
        f"{names.dlq}-redrive-allow",
        queue_url=dlq.url,
        redrive_allow_policy=queue.arn.apply(
            lambda arn: json.dumps({"redrivePermission": "byQueue", "sourceQueueArns": [arn]})
        ),
        opts=pulumi.ResourceOptions(parent=dlq),
    )
    for q, label in ((queue, names.queue), (dlq, names.dlq)):
        aws.sqs.QueuePolicy(
            f"{label}-tls-only",
            queue_url=q.url,
            policy=q.arn.apply(
                lambda arn: json.dumps(policies.deny_insecure_transport("sqs", [arn]))
            ),
            opts=pulumi.ResourceOptions(parent=q),
        )
    return dlq, queue


def _dlq_alarm(
    cfg: InfraConfig, names: AwsNames, dlq: aws.sqs.Queue, opts: pulumi.ResourceOptions
) -> aws.sns.Topic:
    topic = aws.sns.Topic(f"{names.base}-alarms", opts=opts)
    if cfg.aws.alarm_email:
        aws.sns.TopicSubscription(
            f"{names.base}-alarms-email",
            topic=topic.arn,
            protocol="email",
            endpoint=cfg.aws.alarm_email,
            opts=pulumi.ResourceOptions(parent=topic),
        )
    aws.cloudwatch.MetricAlarm(
        f"{names.dlq}-depth",
        alarm_description="Paddock work landed in the dead-letter queue",
        namespace="AWS/SQS",
        metric_name="ApproximateNumberOfMessagesVisible",
        dimensions={"QueueName": dlq.name},
        statistic="Maximum",
        period=60,
        evaluation_periods=1,
        threshold=0,
        comparison_operator="GreaterThanThreshold",
        treat_missing_data="notBreaching",
        alarm_actions=[topic.arn],
        ok_actions=[topic.arn],
        opts=pulumi.ResourceOptions(parent=dlq),
    )
    return topic
