"""API Gateway HTTP API in front of the HTTP Lambda, with a JWT authorizer on every route
except the health check and the OpenAPI document."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from paddock_infra.config import InfraConfig
from paddock_infra.federation import AwsNames

PUBLIC_ROUTES = ("GET /healthz", "GET /openapi.json")
"""Routes served without a token: liveness and the API description carry no tenant data."""
PAYLOAD_FORMAT = "2.0"
"""HTTP API event format 2.0: the handler uses Powertools' ``APIGatewayHttpResolver``."""
_ACCESS_LOG = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "requestTime": "$context.requestTime",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "latency": "$context.responseLatency",
    "integrationError": "$context.integrationErrorMessage",
    "authorizerError": "$context.authorizer.error",
}


def build_api(
    cfg: InfraConfig, names: AwsNames, http: aws.lambda_.Function, parent: pulumi.Resource
) -> aws.apigatewayv2.Api:
    opts = pulumi.ResourceOptions(parent=parent)
    cors: aws.apigatewayv2.ApiCorsConfigurationArgsDict | None = None
    if cfg.aws.cors_origins:
        cors = {
            "allow_origins": list(cfg.aws.cors_origins),
            "allow_methods": ["GET", "POST", "OPTIONS"],
            "allow_headers": ["authorization", "content-type", "idempotency-key"],
            "max_age": 600,
        }
    api = aws.apigatewayv2.Api(
        f"{names.base}-api",
        name=f"{names.base}-api",
        protocol_type="HTTP",
        cors_configuration=cors,
        opts=opts,
    )
    child = pulumi.ResourceOptions(parent=api)
    authorizer = aws.apigatewayv2.Authorizer(
        f"{names.base}-jwt",
        api_id=api.id,
        name="paddock-jwt",
        authorizer_type="JWT",
        identity_sources=["$request.header.Authorization"],
        jwt_configuration={"issuer": cfg.auth.issuer, "audiences": [cfg.auth.audience]},
        opts=child,
    )
    integration = aws.apigatewayv2.Integration(
        f"{names.base}-lambda",
        api_id=api.id,
        integration_type="AWS_PROXY",
        integration_uri=http.invoke_arn,
        integration_method="POST",
        payload_format_version=PAYLOAD_FORMAT,
        timeout_milliseconds=30000,
        opts=child,
    )
    target = pulumi.Output.concat("integrations/", integration.id)
    for key in PUBLIC_ROUTES:
        aws.apigatewayv2.Route(
            f"{names.base}-{_slug(key)}",
            api_id=api.id,
            route_key=key,
            target=target,
            authorization_type="NONE",
            opts=child,
        )
    aws.apigatewayv2.Route(
        f"{names.base}-default",
        api_id=api.id,
        route_key="$default",
        target=target,
        authorization_type="JWT",
        authorizer_id=authorizer.id,
        opts=child,
    )
    _stage(cfg, names, api, child)
    aws.lambda_.Permission(
        f"{names.base}-api-invoke",
        action="lambda:InvokeFunction",
        function=http.name,
        principal="apigateway.amazonaws.com",
        # Any stage/route of this one API; the API itself decides which routes exist.
        source_arn=pulumi.Output.concat(api.execution_arn, "/*"),
        opts=child,
    )
    return api


def _stage(
    cfg: InfraConfig, names: AwsNames, api: aws.apigatewayv2.Api, opts: pulumi.ResourceOptions
) -> aws.apigatewayv2.Stage:
    logs = aws.cloudwatch.LogGroup(
        f"{names.base}-api-access-logs",
        name=f"/aws/apigateway/{names.base}-api",
        retention_in_days=cfg.log_retention_days,
        opts=opts,
    )
    return aws.apigatewayv2.Stage(
        f"{names.base}-default-stage",
        api_id=api.id,
        name="$default",
        auto_deploy=True,
        access_log_settings={"destination_arn": logs.arn, "format": json.dumps(_ACCESS_LOG)},
        default_route_settings={
            "throttling_rate_limit": cfg.aws.throttle_rate,
            "throttling_burst_limit": cfg.aws.throttle_burst,
        },
        opts=opts,
    )


def _slug(route_key: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in route_key.lower()).strip("-")
