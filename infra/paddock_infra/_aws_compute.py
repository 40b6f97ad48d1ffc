"""AWS compute: one role per function (least privilege), log groups, the two Lambdas, the SQS
event source mapping, and the tools role the worker assumes for per-call credentials."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from paddock_infra import policies
from paddock_infra._aws_code import AwsCode
from paddock_infra._aws_data import AwsData
from paddock_infra._aws_network import AwsNetworking, attach_interface_policy
from paddock_infra.bedrock import bedrock_env, worker_bedrock
from paddock_infra.config import InfraConfig
from paddock_infra.federation import AwsNames, AzurePeer
from paddock_infra.packaging import LAMBDA_ROOT, workflows_dir

HTTP_HANDLER = "functions.aws.http_handler.handler"
WORKER_HANDLER = "functions.aws.worker_handler.handler"
RUNTIME = "python3.12"
ARCHITECTURE = "arm64"
Env = Mapping[str, pulumi.Input[str]]


@dataclass
class AwsCompute:
    http: aws.lambda_.Function
    worker: aws.lambda_.Function
    http_role: aws.iam.Role
    worker_role: aws.iam.Role
    tools_role: aws.iam.Role


def base_env(cfg: InfraConfig, data: AwsData, names: AwsNames) -> dict[str, pulumi.Input[str]]:
    """Variables both functions read (names as in core/settings, docs/settings.md)."""
    env: dict[str, pulumi.Input[str]] = {
        **cfg.extra_env,
        "PADDOCK_CLOUD": "aws",
        "PADDOCK_STORE": "dynamodb",
        "PADDOCK_DYNAMODB_TABLE": data.table.name,
        "PADDOCK_PAYLOAD_BUCKET": data.bucket.bucket,
        "PADDOCK_SQS_QUEUE_URL": data.queue.url,
        "PADDOCK_AUTH_ISSUER": cfg.auth.issuer,
        "PADDOCK_AUTH_AUDIENCE": cfg.auth.audience,
        "PADDOCK_LLM": cfg.llm.provider,
        "POWERTOOLS_SERVICE_NAME": cfg.prefix,
        "POWERTOOLS_METRICS_NAMESPACE": "Paddock",
        "OTEL_SERVICE_NAME": names.base,
    }
    if cfg.auth.jwks_url:
        env["PADDOCK_AUTH_JWKS_URL"] = cfg.auth.jwks_url
    if cfg.workflows:
        env["PADDOCK_WORKFLOWS_DIR"] = workflows_dir(LAMBDA_ROOT)
    env.update(cfg.telemetry.plain_env())
    if cfg.telemetry.otlp_headers is not None:
        env["OTEL_EXPORTER_OTLP_HEADERS"] = pulumi.Output.secret(cfg.telemetry.otlp_headers)
    return env


def worker_env(
    cfg: InfraConfig, base: Env, tools_role: aws.iam.Role, azure: AzurePeer | None, names: AwsNames
) -> dict[str, pulumi.Input[str]]:
    """The worker also plans (LLM settings and key), assumes the tools role, reads tool
    secrets, mints capability tokens, hands off."""
    env: dict[str, pulumi.Input[str]] = {
        **base,
        **cfg.llm.plain_env(),
        **bedrock_env(cfg.bedrock, cfg.llm.provider),
        "PADDOCK_AWS_ROLE_ARN": tools_role.arn,
    }
    if cfg.llm.api_key is not None:
        env[cfg.llm.api_key_env] = pulumi.Output.secret(cfg.llm.api_key)
    if cfg.tool_secrets:
        env.update({"PADDOCK_SECRETS": "aws", "PADDOCK_SECRETS_PREFIX": names.secrets_prefix})
    if cfg.event_webhook_secret is not None:
        env["PADDOCK_EVENTS_WEBHOOKS"] = ",".join(cfg.event_webhooks)
        env["PADDOCK_EVENTS_WEBHOOK_SECRET"] = pulumi.Output.secret(cfg.event_webhook_secret)
    if cfg.capability_key is not None and cfg.capability_key_id is not None:
        env["PADDOCK_CAPABILITY_KEY"] = pulumi.Output.secret(cfg.capability_key)
        env["PADDOCK_CAPABILITY_KEY_ID"] = cfg.capability_key_id
    if azure is not None:
        env.update(
            {
                "PADDOCK_ENTRA_CLIENT_ID": azure.entra_client_id,
                "PADDOCK_ENTRA_TENANT_ID": azure.tenant_id,
                "PADDOCK_QUEUE_ENDPOINT": azure.queue_endpoint,
                "PADDOCK_QUEUE_NAME": azure.queue_name,
                "PADDOCK_TABLE_ENDPOINT": azure.table_endpoint,
                "PADDOCK_TABLE_NAME": azure.table_name,
                "PADDOCK_BLOB_ENDPOINT": azure.blob_endpoint,
                "PADDOCK_BLOB_CONTAINER": azure.blob_container,
            }
        )
    return env


def build_compute(
    cfg: InfraConfig,
    names: AwsNames,
    data: AwsData,
    parent: pulumi.Resource,
    *,
    code: AwsCode,
    networking: AwsNetworking | None,
    azure: AzurePeer | None,
    events_env: Env | None = None,
) -> AwsCompute:
    opts = pulumi.ResourceOptions(parent=parent)
    trust = json.dumps(policies.lambda_trust())
    http_role = aws.iam.Role(
        f"{names.base}-http-role", name=names.http_function, assume_role_policy=trust, opts=opts
    )
    worker_role = aws.iam.Role(
        f"{names.base}-worker-role", name=names.worker_function, assume_role_policy=trust, opts=opts
    )
    tools_role = _tools_role(cfg, names, worker_role, opts)
    http_logs = _log_group(cfg, names.http_function, opts)
    worker_logs = _log_group(cfg, names.worker_function, opts)
    store = _store_arns(data)
    http_policy = aws.iam.RolePolicy(
        f"{names.base}-http-policy",
        role=http_role.id,
        policy=pulumi.Output.all(store, data.queue.arn, http_logs.arn).apply(
            lambda a: json.dumps(
                policies.http_function_policy(
                    a[0], queue_arn=a[1], log_group_arn=a[2], xray=cfg.aws.xray
                )
            )
        ),
        opts=pulumi.ResourceOptions(parent=http_role),
    )
    secrets_arn = names.secrets_arn_pattern if cfg.tool_secrets else None
    worker_policy = aws.iam.RolePolicy(
        f"{names.base}-worker-policy",
        role=worker_role.id,
        policy=pulumi.Output.all(
            store, data.queue.arn, worker_logs.arn, tools_role.arn, secrets_arn
        ).apply(
            lambda a: json.dumps(
                policies.worker_function_policy(
                    a[0],
                    queue_arn=a[1],
                    log_group_arn=a[2],
                    tools_role_arn=a[3],
                    federate_to_entra=azure is not None,
                    secrets_arn_pattern=a[4],
                    xray=cfg.aws.xray,
                )
            )
        ),
        opts=pulumi.ResourceOptions(parent=worker_role),
    )
    http_deps: list[pulumi.Resource] = [http_policy]
    worker_deps: list[pulumi.Resource] = [worker_policy]
    if networking is not None:  # Lambda checks the ENI rights when the function is created
        http_deps.append(attach_interface_policy(cfg, names, networking, http_role, "http"))
        worker_deps.append(attach_interface_policy(cfg, names, networking, worker_role, "worker"))
    bedrock = worker_bedrock(cfg.bedrock, cfg.llm.provider, names, worker_role)
    if bedrock is not None:
        worker_deps.append(bedrock)
    env = base_env(cfg, data, names)
    placement = _Placement(code=code, networking=networking)
    http = _function(
        cfg,
        placement,
        names.http_function,
        HTTP_HANDLER,
        http_role,
        http_logs,
        env,
        timeout=cfg.aws.http_timeout,
        memory=cfg.aws.http_memory,
        reserved=cfg.aws.http_reserved_concurrency,
        depends_on=http_deps,
        opts=opts,
    )
    worker = _function(
        cfg,
        placement,
        names.worker_function,
        WORKER_HANDLER,
        worker_role,
        worker_logs,
        {**worker_env(cfg, env, tools_role, azure, names), **(events_env or {})},
        timeout=cfg.aws.worker_timeout,
        memory=cfg.aws.worker_memory,
        reserved=cfg.aws.worker_reserved_concurrency,
        depends_on=worker_deps,
        opts=opts,
    )
    _event_source(cfg, names, data, worker, worker_policy)
    return AwsCompute(
        http=http,
        worker=worker,
        http_role=http_role,
        worker_role=worker_role,
        tools_role=tools_role,
    )


def _store_arns(data: AwsData) -> pulumi.Output[policies.StoreArns]:
    return pulumi.Output.all(data.table.arn, data.index_arns(), data.payload_objects_arn).apply(
        lambda a: policies.StoreArns(table=a[0], indexes=tuple(a[1]), payload_objects=a[2])
    )


def _tools_role(
    cfg: InfraConfig, names: AwsNames, worker_role: aws.iam.Role, opts: pulumi.ResourceOptions
) -> aws.iam.Role:
    # Short sessions: the executor asks for credentials per call, with a session policy.
    role = aws.iam.Role(
        f"{names.base}-tools-role",
        name=names.tools_role,
        max_session_duration=3600,
        assume_role_policy=worker_role.arn.apply(
            lambda arn: json.dumps(policies.tools_role_trust(arn))
        ),
        opts=opts,
    )
    grants = policies.tool_grants_policy(cfg.aws.tool_grants)
    if grants is not None:
        aws.iam.RolePolicy(
            f"{names.base}-tools-policy",
            role=role.id,
            policy=json.dumps(grants),
            opts=pulumi.ResourceOptions(parent=role),
        )
    return role


def _log_group(
    cfg: InfraConfig, function_name: str, opts: pulumi.ResourceOptions
) -> aws.cloudwatch.LogGroup:
    return aws.cloudwatch.LogGroup(
        f"{function_name}-logs",
        name=f"/aws/lambda/{function_name}",
        retention_in_days=cfg.log_retention_days,
        opts=opts,
    )


@dataclass(frozen=True)
class _Placement:
    """Where the functions' code is and which network they run in."""

    code: AwsCode
    networking: AwsNetworking | None


def _function(
    cfg: InfraConfig,
    placement: _Placement,
    name: str,
    handler: str,
    role: aws.iam.Role,
    logs: aws.cloudwatch.LogGroup,
    env: Env,
    *,
    timeout: int,
    memory: int,
    reserved: int,
    depends_on: list[pulumi.Resource],
    opts: pulumi.ResourceOptions,
) -> aws.lambda_.Function:
    return aws.lambda_.Function(
        name,
        name=name,
        role=role.arn,
        handler=handler,
        runtime=RUNTIME,
        architectures=[ARCHITECTURE],
        s3_bucket=placement.code.object.bucket,
        s3_key=placement.code.object.key,
        source_code_hash=placement.code.source_code_hash,
        vpc_config=placement.networking.vpc_config() if placement.networking else None,
        timeout=timeout,
        memory_size=memory,
        reserved_concurrent_executions=reserved,
        environment={"variables": dict(env)},
        tracing_config={"mode": "Active" if cfg.aws.xray else "PassThrough"},
        logging_config={"log_format": "JSON", "log_group": logs.name},
        opts=pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(depends_on=[logs, placement.code.object, *depends_on])
        ),
    )


def _event_source(
    cfg: InfraConfig,
    names: AwsNames,
    data: AwsData,
    worker: aws.lambda_.Function,
    policy: aws.iam.RolePolicy,
) -> None:
    reserved = cfg.aws.worker_reserved_concurrency
    # The ESM's maximum concurrency (>= 2) stays within the reservation so that SQS never
    # pushes into throttles; the reservation is the fan-out guard.
    scaling: aws.lambda_.EventSourceMappingScalingConfigArgsDict | None = (
        {"maximum_concurrency": reserved} if reserved >= 2 else None
    )
    aws.lambda_.EventSourceMapping(
        f"{names.worker_function}-sqs",
        event_source_arn=data.queue.arn,
        function_name=worker.arn,
        batch_size=cfg.aws.worker_batch_size,
        function_response_types=["ReportBatchItemFailures"],
        scaling_config=scaling,
        opts=pulumi.ResourceOptions(parent=worker, depends_on=[policy]),
    )
