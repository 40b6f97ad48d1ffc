"""Run events (docs/events.md): an EventBridge bus on AWS, an Event Grid topic on Azure, and
the one permission each worker needs to publish there.

The AWS worker may ``events:PutEvents`` on this bus and nothing else; the Function App's
identity holds EventGrid Data Sender on this topic only, and the topic takes no access keys
(Entra tokens only). Each worker is told where to publish with the one variable the runtime
reads (``PADDOCK_EVENTS_EVENTBRIDGE_BUS``, ``PADDOCK_EVENTS_EVENTGRID_ENDPOINT``).
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_azure_native as azure_native

from paddock_infra._azure_common import AzureContext, assign_role, global_name
from paddock_infra.config import InfraConfig
from paddock_infra.federation import AwsNames

BUS_VARIABLE = "PADDOCK_EVENTS_EVENTBRIDGE_BUS"
TOPIC_VARIABLE = "PADDOCK_EVENTS_EVENTGRID_ENDPOINT"
SENDER_ROLE = "EventGrid Data Sender"


def put_events_policy(bus_arn: str) -> dict[str, Any]:
    """IAM policy: put events on one bus."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PublishRunEvents",
                "Effect": "Allow",
                "Action": "events:PutEvents",
                "Resource": bus_arn,
            }
        ],
    }


def event_bus(names: AwsNames, parent: pulumi.Resource) -> aws.cloudwatch.EventBus:
    """The stack's own bus (rules and targets on it are the operator's)."""
    return aws.cloudwatch.EventBus(
        f"{names.base}-events",
        name=f"{names.base}-events",
        opts=pulumi.ResourceOptions(parent=parent),
    )


def grant_put_events(
    names: AwsNames, role: aws.iam.Role, bus: aws.cloudwatch.EventBus
) -> aws.iam.RolePolicy:
    return aws.iam.RolePolicy(
        f"{names.base}-worker-events-policy",
        role=role.id,
        policy=bus.arn.apply(lambda arn: json.dumps(put_events_policy(arn))),
        opts=pulumi.ResourceOptions(parent=role),
    )


def event_topic(
    cfg: InfraConfig, ctx: AzureContext, parent: pulumi.Resource
) -> azure_native.eventgrid.Topic:
    """A CloudEvents 1.0 topic that accepts Entra tokens only (no access keys)."""
    return azure_native.eventgrid.Topic(
        f"{cfg.base_name}-events",
        topic_name=global_name(ctx, cfg.base_name, "events", max_len=50),
        resource_group_name=ctx.resource_group.name,
        location=ctx.location,
        input_schema=azure_native.eventgrid.InputSchema.CLOUD_EVENT_SCHEMA_V1_0,
        disable_local_auth=True,
        public_network_access="Enabled",
        opts=pulumi.ResourceOptions(parent=parent),
    )


def grant_send(
    cfg: InfraConfig,
    ctx: AzureContext,
    topic: azure_native.eventgrid.Topic,
    principal_id: pulumi.Input[str],
    parent: pulumi.Resource,
) -> azure_native.authorization.RoleAssignment:
    return assign_role(
        f"{cfg.base_name}-fn-events",
        ctx,
        role=SENDER_ROLE,
        principal_id=principal_id,
        scope=topic.id,
        parent=parent,
    )
