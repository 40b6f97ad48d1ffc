"""AWS resources carry the settings the issue and the handlers need."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .harness import synth  # puts infra/ on sys.path


def test_state_table_is_on_demand_with_pitr_ttl_and_encryption(stack) -> None:
    table = stack("aws").one("aws:dynamodb/table:Table")
    assert table.plain("billingMode") == "PAY_PER_REQUEST"
    assert table.plain("pointInTimeRecovery") == {"enabled": True}
    assert table.plain("ttl") == {"attributeName": "expires_at", "enabled": True}
    assert table.plain("serverSideEncryption") == {"enabled": True}


def test_state_table_schema_matches_the_store(stack) -> None:
    """The Pulumi table must be the one core.state.dynamodb creates for moto."""
    from core.state import dynamodb

    class Capture:
        def __init__(self) -> None:
            self.kwargs: dict[str, Any] = {}

        def create_table(self, **kwargs: Any) -> None:
            self.kwargs = kwargs

        def get_waiter(self, _: str) -> Any:
            return type("W", (), {"wait": lambda *a, **k: None})()

        def update_time_to_live(self, **kwargs: Any) -> None:
            self.ttl = kwargs["TimeToLiveSpecification"]

    client = Capture()
    dynamodb.create_dynamodb_table(client, "t")
    table = stack("aws").one("aws:dynamodb/table:Table")
    keys = {k["KeyType"]: k["AttributeName"] for k in client.kwargs["KeySchema"]}
    assert (table.plain("hashKey"), table.plain("rangeKey")) == (keys["HASH"], keys["RANGE"])
    attrs = {a["AttributeName"]: a["AttributeType"] for a in client.kwargs["AttributeDefinitions"]}
    assert {a["name"]: a["type"] for a in table.plain("attributes")} == attrs
    wanted = {
        g["IndexName"]: [k["AttributeName"] for k in g["KeySchema"]]
        for g in client.kwargs["GlobalSecondaryIndexes"]
    }
    got = {g["name"]: [g["hashKey"], g["rangeKey"]] for g in table.plain("globalSecondaryIndexes")}
    assert got == wanted
    assert table.plain("ttl")["attributeName"] == client.ttl["AttributeName"]


def test_payload_bucket_is_private_encrypted_and_expires_payloads(stack) -> None:
    s = stack("aws")
    block = s.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "payloads")
    assert all(
        block.plain(k) is True
        for k in (
            "blockPublicAcls",
            "blockPublicPolicy",
            "ignorePublicAcls",
            "restrictPublicBuckets",
        )
    )
    sse = s.one(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "payloads",
    )
    assert sse.plain("rules")[0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"]
    rule = s.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").plain("rules")[
        0
    ]
    assert rule["status"] == "Enabled" and rule["filter"] == {"prefix": "runs/"}
    assert rule["expiration"]["days"] == 90
    ownership = s.one("aws:s3/bucketOwnershipControls:BucketOwnershipControls", "payloads")
    assert ownership.plain("rule") == {"objectOwnership": "BucketOwnerEnforced"}


def test_work_queue_redrives_to_its_dlq_which_raises_an_alarm(stack) -> None:
    s = stack("aws")
    queues = {q.plain("name"): q for q in s.of_type("aws:sqs/queue:Queue")}
    work, dlq = queues["paddock-dev-work"], queues["paddock-dev-work-dlq"]
    redrive = json.loads(work.plain("redrivePolicy"))
    assert redrive == {"deadLetterTargetArn": dlq.outputs["arn"], "maxReceiveCount": 5}
    assert "redrivePolicy" not in dlq.inputs
    assert all(q.plain("sqsManagedSseEnabled") for q in queues.values())
    # Visibility covers the worker's whole timeout (six times, as AWS advises).
    assert work.plain("visibilityTimeoutSeconds") == 6 * 300
    alarm = s.one("aws:cloudwatch/metricAlarm:MetricAlarm")
    assert alarm.plain("dimensions") == {"QueueName": "paddock-dev-work-dlq"}
    assert alarm.plain("metricName") == "ApproximateNumberOfMessagesVisible"
    assert alarm.plain("comparisonOperator") == "GreaterThanThreshold"
    assert alarm.plain("threshold") == 0
    assert alarm.plain("alarmActions") == [s.one("aws:sns/topic:Topic").outputs["arn"]]


def test_functions_are_arm64_python312_traced_and_sized_from_config(stack) -> None:
    s = stack(
        "aws", httpReservedConcurrency=7, workerReservedConcurrency=3, workerTimeoutSeconds=120
    )
    fns = {f.plain("name"): f for f in s.of_type("aws:lambda/function:Function")}
    http, worker = fns["paddock-dev-http"], fns["paddock-dev-worker"]
    assert http.plain("handler") == "functions.aws.http_handler.handler"
    assert worker.plain("handler") == "functions.aws.worker_handler.handler"
    for fn in (http, worker):
        assert fn.plain("architectures") == ["arm64"]
        assert fn.plain("runtime") == "python3.12"
        assert fn.plain("tracingConfig") == {"mode": "Active"}
    assert http.plain("reservedConcurrentExecutions") == 7
    assert worker.plain("reservedConcurrentExecutions") == 3
    assert http.plain("timeout") == 29 and worker.plain("timeout") == 120
    esm = s.one("aws:lambda/eventSourceMapping:EventSourceMapping")
    assert esm.plain("scalingConfig") == {"maximumConcurrency": 3}


def test_worker_reports_partial_batch_failures(stack) -> None:
    s = stack("aws")
    esm = s.one("aws:lambda/eventSourceMapping:EventSourceMapping")
    work = next(q for q in s.of_type("aws:sqs/queue:Queue") if q.name.endswith("work"))
    assert esm.plain("functionResponseTypes") == ["ReportBatchItemFailures"]
    assert esm.plain("eventSourceArn") == work.outputs["arn"]
    assert (
        esm.plain("functionName") == s.one("aws:lambda/function:Function", "worker").outputs["arn"]
    )


def test_every_log_group_has_the_configured_retention(stack) -> None:
    s = stack("aws", logRetentionDays=14)
    groups = s.of_type("aws:cloudwatch/logGroup:LogGroup")
    assert {g.plain("retentionInDays") for g in groups} == {14}
    for fn in s.of_type("aws:lambda/function:Function"):
        assert fn.plain("loggingConfig")["logGroup"] == f"/aws/lambda/{fn.plain('name')}"


def test_http_api_requires_a_jwt_except_on_health_and_openapi(stack) -> None:
    s = stack("aws")
    auth = s.one("aws:apigatewayv2/authorizer:Authorizer")
    assert auth.plain("authorizerType") == "JWT"
    assert auth.plain("jwtConfiguration") == {
        "issuer": "https://login.microsoftonline.com/tenant/v2.0",
        "audiences": ["api://paddock"],
    }
    routes = {r.plain("routeKey"): r for r in s.of_type("aws:apigatewayv2/route:Route")}
    assert set(routes) == {"$default", "GET /healthz", "GET /openapi.json"}
    assert routes["$default"].plain("authorizationType") == "JWT"
    assert routes["$default"].plain("authorizerId") == auth.id
    assert {routes[k].plain("authorizationType") for k in routes if k != "$default"} == {"NONE"}
    integration = s.one("aws:apigatewayv2/integration:Integration")
    assert integration.plain("payloadFormatVersion") == "2.0"
    assert (
        integration.plain("integrationUri")
        == s.one("aws:lambda/function:Function", "http").outputs["invokeArn"]
    )
    stage = s.one("aws:apigatewayv2/stage:Stage")
    assert stage.plain("defaultRouteSettings")["throttlingBurstLimit"] == 100


def test_functions_get_the_environment_core_config_reads(stack) -> None:
    s = stack("aws")
    fns = {
        f.plain("name"): f.plain("environment")["variables"]
        for f in s.of_type("aws:lambda/function:Function")
    }
    http, worker = fns["paddock-dev-http"], fns["paddock-dev-worker"]
    for env in (http, worker):
        assert env["PADDOCK_CLOUD"] == "aws" and env["PADDOCK_STORE"] == "dynamodb"
        assert env["PADDOCK_DYNAMODB_TABLE"] == "paddock-dev-state"
        assert env["PADDOCK_PAYLOAD_BUCKET"] == "paddock-dev-payloads-123456789012"
        assert env["PADDOCK_SQS_QUEUE_URL"].endswith("/paddock-dev-work")
        assert env["PADDOCK_AUTH_AUDIENCE"] == "api://paddock"
    assert worker["PADDOCK_AWS_ROLE_ARN"].endswith(":role/paddock-dev-tools")
    assert "OPENAI_API_KEY" in worker and "OPENAI_API_KEY" not in http
    assert "PADDOCK_ENTRA_CLIENT_ID" not in worker  # only when federated with Azure


def test_missing_lambda_package_fails_with_a_hint(tmp_path) -> None:
    from paddock_infra.config import InfraConfigError

    with pytest.raises(InfraConfigError, match="scripts/package"):
        synth({"targets": "aws", "awsLambdaPackage": str(tmp_path / "missing.zip")})
