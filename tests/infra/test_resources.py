"""Every expected resource exists, exactly as often as expected, for each deploy target."""

from __future__ import annotations

from collections import Counter

import pytest

AWS = {
    "pulumi:providers:aws": 1,
    "paddock:aws:AwsStack": 1,
    "aws:dynamodb/table:Table": 1,
    # The payload bucket and the code bucket (with the package object).
    "aws:s3/bucket:Bucket": 2,
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": 2,
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": 2,
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": 2,
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": 1,
    "aws:s3/bucketPolicy:BucketPolicy": 2,
    "aws:s3/bucketObjectv2:BucketObjectv2": 1,
    "aws:sqs/queue:Queue": 2,
    "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy": 1,
    "aws:sqs/queuePolicy:QueuePolicy": 2,
    "aws:sns/topic:Topic": 1,
    "aws:cloudwatch/metricAlarm:MetricAlarm": 1,
    "aws:cloudwatch/logGroup:LogGroup": 3,
    "aws:iam/role:Role": 3,
    "aws:iam/rolePolicy:RolePolicy": 3,
    "aws:cloudwatch/eventBus:EventBus": 1,
    "aws:lambda/function:Function": 2,
    "aws:lambda/eventSourceMapping:EventSourceMapping": 1,
    "aws:lambda/permission:Permission": 1,
    "aws:apigatewayv2/api:Api": 1,
    "aws:apigatewayv2/authorizer:Authorizer": 1,
    "aws:apigatewayv2/integration:Integration": 1,
    "aws:apigatewayv2/route:Route": 3,
    "aws:apigatewayv2/stage:Stage": 1,
}
AZURE = {
    "pulumi:providers:azure-native": 1,
    "paddock:azure:AzureStack": 1,
    "azure-native:resources:ResourceGroup": 1,
    "azure-native:storage:StorageAccount": 1,
    "azure-native:storage:Queue": 2,
    "azure-native:storage:BlobContainer": 4,
    "azure-native:storage:ManagementPolicy": 1,
    "azure-native:cosmosdb:DatabaseAccount": 1,
    "azure-native:cosmosdb:TableResourceTable": 1,
    "azure-native:cosmosdb:TableResourceTableRoleAssignment": 1,
    "azure-native:operationalinsights:Workspace": 1,
    "azure-native:applicationinsights:Component": 1,
    "azure-native:web:AppServicePlan": 1,
    "azure-native:web:WebApp": 1,
    # 2 queues + 4 containers + telemetry + the LLM secret + the deployer's upload + the
    # Event Grid topic's data sender.
    "azure-native:authorization:RoleAssignment": 10,
    "azure-native:eventgrid:Topic": 1,
    "azure-native:keyvault:Vault": 1,
    "azure-native:keyvault:Secret": 1,
    # The package upload (a dynamic resource) and Flex's onedeploy extension.
    "pulumi-python:dynamic:Resource": 1,
    "azure-native:resources:Resource": 1,
}
FEDERATION = {
    "aws:iam/outboundWebIdentityFederation:OutboundWebIdentityFederation": 1,
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": 1,
    "aws:iam/role:Role": 1,
    "aws:iam/rolePolicy:RolePolicy": 1,
    "azure-native:managedidentity:UserAssignedIdentity": 1,
    "azure-native:managedidentity:FederatedIdentityCredential": 1,
    "azure-native:authorization:RoleAssignment": 2,
    "azure-native:cosmosdb:TableResourceTableRoleAssignment": 1,
}


def expected(targets: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    if targets in ("aws", "both"):
        counts.update(AWS)
    if targets in ("azure", "both"):
        counts.update(AZURE)
    if targets == "both":
        counts.update(FEDERATION)
    return counts


@pytest.mark.parametrize("targets", ["aws", "azure", "both"])
def test_exactly_the_expected_resources(stack, targets: str) -> None:
    synth = stack(targets)
    assert Counter(r.typ for r in synth.resources) == expected(targets)


@pytest.mark.parametrize(("targets", "absent"), [("aws", "azure-native:"), ("azure", "aws:")])
def test_single_cloud_deploys_nothing_in_the_other(stack, targets: str, absent: str) -> None:
    synth = stack(targets)
    assert not [r for r in synth.resources if r.typ.startswith(absent)]
    assert not [c for c in synth.calls if c.startswith(absent)]


@pytest.mark.parametrize(
    ("targets", "keys"),
    [
        ("aws", {"awsApiUrl", "awsQueueName", "awsDeadLetterQueueName", "awsTableName"}),
        ("azure", {"azureApiUrl", "azureQueueName", "azurePoisonQueueName", "azureTableName"}),
    ],
)
def test_stack_outputs_name_apis_queues_and_tables(stack, targets: str, keys: set[str]) -> None:
    outputs = stack(targets).outputs
    assert keys <= outputs.keys()
    assert all(isinstance(outputs[k], str) and outputs[k] for k in keys)
    both = stack("both").outputs
    assert keys <= both.keys()


def test_output_values_point_at_the_created_resources(stack) -> None:
    synth = stack("both")
    out = synth.outputs
    assert out["awsTableName"] == synth.one("aws:dynamodb/table:Table").plain("name")
    queues = {r.plain("name") for r in synth.of_type("aws:sqs/queue:Queue")}
    assert {out["awsQueueName"], out["awsDeadLetterQueueName"]} == queues
    assert out["awsApiUrl"].startswith("https://")
    host = synth.one("azure-native:web:WebApp").outputs["defaultHostName"]
    assert out["azureApiUrl"] == f"https://{host}"
    azure_queues = {r.plain("queueName") for r in synth.of_type("azure-native:storage:Queue")}
    assert {out["azureQueueName"], out["azurePoisonQueueName"]} == azure_queues
    assert out["azurePoisonQueueName"] == out["azureQueueName"] + "-poison"


def test_every_resource_sits_under_a_component(stack) -> None:
    # Components own their children, so `pulumi stack --show-urns` reads as a tree per cloud.
    from .harness import parent_type

    synth = stack("both")
    top_level = {
        "pulumi:providers:aws",
        "pulumi:providers:azure-native",
        "paddock:aws:AwsStack",
        "paddock:azure:AzureStack",
        "aws:iam/outboundWebIdentityFederation:OutboundWebIdentityFederation",
    }
    assert len(synth.urns) == len(synth.resources)
    loose = [
        u
        for u in synth.urns
        if parent_type(u) == "pulumi:pulumi:Stack"
        and u.split("::")[2].split("$")[-1] not in top_level
    ]
    assert loose == []
