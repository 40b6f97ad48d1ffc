"""The optional private-networking settings: ``paddock:awsNetwork`` and ``paddock:azureNetwork``.

Both are JSON objects; leaving a key unset keeps the functions on the public endpoints (the
default). The AWS side places the Lambdas in the operator's subnets; the Azure side creates a
virtual network for the Function App's integration and the private endpoints.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated

from pydantic import Field, StringConstraints, model_validator

from paddock_infra._setting_types import Rule, SettingsModel

VpcId = Annotated[str, StringConstraints(pattern=r"^vpc-[0-9a-f]+$"), Rule("must be a vpc-... id")]
SubnetId = Annotated[
    str, StringConstraints(pattern=r"^subnet-[0-9a-f]+$"), Rule("must be a subnet-... id")
]
RouteTableId = Annotated[
    str, StringConstraints(pattern=r"^rtb-[0-9a-f]+$"), Rule("must be a rtb-... id")
]
SecurityGroupId = Annotated[
    str, StringConstraints(pattern=r"^sg-[0-9a-f]+$"), Rule("must be a sg-... id")
]
Cidr = Annotated[
    str,
    StringConstraints(pattern=r"^\d{1,3}(\.\d{1,3}){3}/\d{1,2}$"),
    Rule("must be an IPv4 CIDR block such as 10.60.0.0/24"),
]

AWS_INTERFACE_ENDPOINTS = ("sqs", "sts", "secretsmanager", "logs", "xray")
"""Services the functions call that need an interface endpoint (private DNS on)."""
AWS_GATEWAY_ENDPOINTS = ("dynamodb", "s3")
"""Services reached through free gateway endpoints on the route tables."""


class AwsNetwork(SettingsModel):
    """Lambdas in the operator's VPC (``paddock:awsNetwork``)."""

    vpc_id: VpcId = Field(alias="vpcId")
    """The VPC of the subnets."""
    subnet_ids: tuple[SubnetId, ...] = Field(min_length=1, alias="subnetIds")
    """Private subnets for the functions' network interfaces (two or more AZs advised)."""
    route_table_ids: tuple[RouteTableId, ...] = Field((), alias="routeTableIds")
    """Route tables of those subnets: the DynamoDB and S3 gateway endpoints are added to them."""
    security_group_ids: tuple[SecurityGroupId, ...] = Field((), alias="securityGroupIds")
    """Extra security groups on the functions (e.g. one that may reach an on-premises SAP)."""
    endpoints: bool = True
    """Create the VPC endpoints (false: the VPC already has them, or egress goes via NAT)."""

    @model_validator(mode="after")
    def _gateways_need_routes(self) -> AwsNetwork:
        if self.endpoints and not self.route_table_ids:
            raise ValueError(
                "paddock:awsNetwork.routeTableIds is required for the DynamoDB and S3 gateway "
                "endpoints (or set endpoints: false)"
            )
        return self


class AzureNetwork(SettingsModel):
    """Function App VNet integration and private endpoints (``paddock:azureNetwork``)."""

    address_space: Cidr = Field("10.60.0.0/16", alias="addressSpace")
    """The virtual network the program creates (peer it to a hub for on-premises reach)."""
    integration_subnet: Cidr = Field("10.60.0.0/24", alias="integrationSubnet")
    """Delegated to the Function App (Flex Consumption: ``Microsoft.App/environments``)."""
    endpoint_subnet: Cidr = Field("10.60.1.0/24", alias="endpointSubnet")
    """Holds the private endpoints of Storage, Cosmos DB and Key Vault."""
    public_access: bool = Field(False, alias="publicAccess")
    """false: Storage, Cosmos DB and Key Vault refuse public network access."""
    deployer_ip_ranges: tuple[Cidr, ...] = Field((), alias="deployerIpRanges")
    """With ``publicAccess: false``: addresses ``pulumi up`` runs from, allowed through the
    storage firewall to upload the package (empty: run it from inside the network)."""

    @model_validator(mode="after")
    def _subnets_inside(self) -> AzureNetwork:
        try:
            space = ipaddress.ip_network(self.address_space)
            subnets = [
                ipaddress.ip_network(c) for c in (self.integration_subnet, self.endpoint_subnet)
            ]
        except ValueError as exc:
            raise ValueError(f"paddock:azureNetwork: {exc}") from None
        if not all(s.subnet_of(space) for s in subnets):  # type: ignore[arg-type]
            raise ValueError("paddock:azureNetwork: the subnets must lie inside addressSpace")
        if subnets[0].overlaps(subnets[1]):
            raise ValueError("paddock:azureNetwork: the two subnets overlap")
        return self
