"""Optional private networking on AWS (``paddock:awsNetwork``): the functions' security group,
VPC endpoints for every AWS service the workers call, and the network-interface rights Lambda
needs to place a function in the operator's subnets.

Third-party tool hosts (and an on-premises SAP) are reached through the operator's routing: a
NAT gateway for the internet, a VPN or Direct Connect for on-premises; docs/deploy.md says how.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from paddock_infra import policies
from paddock_infra.config import InfraConfig
from paddock_infra.federation import AwsNames
from paddock_infra.network_config import (
    AWS_GATEWAY_ENDPOINTS,
    AWS_INTERFACE_ENDPOINTS,
    AwsNetwork,
)

HTTPS = 443
ENI_DESCRIBE_ACTIONS = ("ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets")
"""EC2 describe calls have no resource-level permissions: Resource must be ``*``."""
ENI_MANAGE_ACTIONS = (
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
)


@dataclass
class AwsNetworking:
    """What the functions need to run inside the VPC."""

    security_group: aws.ec2.SecurityGroup
    security_group_ids: pulumi.Output[list[str]]
    subnet_ids: tuple[str, ...]
    endpoints: list[aws.ec2.VpcEndpoint] = field(default_factory=list)

    def vpc_config(self) -> aws.lambda_.FunctionVpcConfigArgsDict:
        return {"subnet_ids": list(self.subnet_ids), "security_group_ids": self.security_group_ids}


def network_interface_policy(
    *, region: str, account: str, partition: str, net: AwsNetwork, group_ids: list[str]
) -> policies.Document:
    """Lambda's execution role creates and removes the function's interfaces in these subnets
    and groups only; deletes and address changes are limited to interfaces in this VPC."""
    prefix = f"arn:{partition}:ec2:{region}:{account}"
    interfaces = f"{prefix}:network-interface/*"  # interface ids are chosen by EC2
    vpc = f"{prefix}:vpc/{net.vpc_id}"
    return policies.document(
        [
            policies.allow("DescribeNoResourceLevel", ENI_DESCRIBE_ACTIONS, ["*"]),
            policies.allow(
                "CreateInterfacesInOurSubnets",
                ["ec2:CreateNetworkInterface"],
                [
                    interfaces,
                    *(f"{prefix}:subnet/{s}" for s in net.subnet_ids),
                    *(f"{prefix}:security-group/{g}" for g in group_ids),
                ],
            ),
            policies.allow(
                "ManageInterfacesInOurVpc",
                ENI_MANAGE_ACTIONS,
                [interfaces],
                condition={"ArnEquals": {"ec2:Vpc": vpc}},
            ),
        ]
    )


def build_network(
    cfg: InfraConfig, names: AwsNames, parent: pulumi.Resource
) -> AwsNetworking | None:
    net = cfg.aws.network
    if net is None:
        return None
    opts = pulumi.ResourceOptions(parent=parent)
    group = aws.ec2.SecurityGroup(
        f"{names.base}-functions-sg",
        name=f"{names.base}-functions",
        description="Paddock functions: no inbound; HTTPS out (endpoints, NAT)",
        vpc_id=net.vpc_id,
        egress=[_https_out()],
        opts=opts,
    )
    ids = group.id.apply(lambda gid: [gid, *net.security_group_ids])
    networking = AwsNetworking(
        security_group=group, security_group_ids=ids, subnet_ids=net.subnet_ids
    )
    if net.endpoints:
        networking.endpoints = _endpoints(cfg, names, net, group, opts)
    return networking


def attach_interface_policy(
    cfg: InfraConfig,
    names: AwsNames,
    networking: AwsNetworking,
    role: aws.iam.Role,
    label: str,
) -> aws.iam.RolePolicy:
    """The ENI rights on one function role (a policy of its own, so the main one is unchanged)."""
    net = cfg.aws.network
    assert net is not None
    doc = pulumi.Output.all(names.account_id, names.partition, networking.security_group_ids).apply(
        lambda a: json.dumps(
            network_interface_policy(
                region=cfg.aws.region, account=a[0], partition=a[1], net=net, group_ids=a[2]
            )
        )
    )
    return aws.iam.RolePolicy(
        f"{names.base}-{label}-vpc-policy",
        role=role.id,
        policy=doc,
        opts=pulumi.ResourceOptions(parent=role),
    )


def _https_out() -> Any:
    return {
        "protocol": "tcp",
        "from_port": HTTPS,
        "to_port": HTTPS,
        "cidr_blocks": ["0.0.0.0/0"],
        "description": "AWS endpoints in the VPC; third-party hosts through the NAT",
    }


def _endpoints(
    cfg: InfraConfig,
    names: AwsNames,
    net: AwsNetwork,
    functions: aws.ec2.SecurityGroup,
    opts: pulumi.ResourceOptions,
) -> list[aws.ec2.VpcEndpoint]:
    endpoint_group = aws.ec2.SecurityGroup(
        f"{names.base}-endpoints-sg",
        name=f"{names.base}-endpoints",
        description="Paddock interface endpoints: HTTPS from the functions only",
        vpc_id=net.vpc_id,
        ingress=[
            {
                "protocol": "tcp",
                "from_port": HTTPS,
                "to_port": HTTPS,
                "security_groups": [functions.id],
                "description": "the Paddock functions",
            }
        ],
        opts=opts,
    )
    services = [s for s in AWS_INTERFACE_ENDPOINTS if s != "xray" or cfg.aws.xray]
    endpoints = [
        aws.ec2.VpcEndpoint(
            f"{names.base}-{service}-endpoint",
            vpc_id=net.vpc_id,
            service_name=f"com.amazonaws.{cfg.aws.region}.{service}",
            vpc_endpoint_type="Interface",
            private_dns_enabled=True,
            subnet_ids=list(net.subnet_ids),
            security_group_ids=[endpoint_group.id],
            opts=opts,
        )
        for service in services
    ]
    endpoints += [
        aws.ec2.VpcEndpoint(
            f"{names.base}-{service}-endpoint",
            vpc_id=net.vpc_id,
            service_name=f"com.amazonaws.{cfg.aws.region}.{service}",
            vpc_endpoint_type="Gateway",
            route_table_ids=list(net.route_table_ids),
            opts=opts,
        )
        for service in AWS_GATEWAY_ENDPOINTS
    ]
    return endpoints
