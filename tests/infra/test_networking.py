"""Private networking behind stack settings: the Lambdas in the operator's subnets with VPC
endpoints; the Function App integrated with a VNet, private endpoints, public access off."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .harness import Synth

AWS_NET = {
    "vpcId": "vpc-0abc",
    "subnetIds": ["subnet-0a", "subnet-0b"],
    "routeTableIds": ["rtb-0a"],
    "securityGroupIds": ["sg-0a5a9"],
}
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
SG = "aws:ec2/securityGroup:SecurityGroup"


def _endpoints(s: Synth) -> dict[str, Any]:
    return {r.plain("serviceName").rsplit(".", 1)[1]: r for r in s.of_type(ENDPOINT)}


def test_lambdas_run_in_the_given_subnets_with_their_security_groups(stack) -> None:
    s = stack("aws", awsNetwork=AWS_NET)
    group = s.one(SG, "functions")
    assert group.plain("vpcId") == "vpc-0abc"
    assert not group.plain("ingress")
    assert [(e["fromPort"], e["toPort"]) for e in group.plain("egress")] == [(443, 443)]
    for fn in s.of_type("aws:lambda/function:Function"):
        vpc = fn.plain("vpcConfig")
        assert vpc["subnetIds"] == AWS_NET["subnetIds"]
        assert vpc["securityGroupIds"] == [group.id, "sg-0a5a9"]


def test_every_service_the_workers_call_has_an_endpoint(stack) -> None:
    s = stack("aws", awsNetwork=AWS_NET)
    endpoints = _endpoints(s)
    assert set(endpoints) == {"sqs", "sts", "secretsmanager", "logs", "xray", "dynamodb", "s3"}
    endpoint_group = s.one(SG, "endpoints")
    (rule,) = endpoint_group.plain("ingress")
    assert rule["securityGroups"] == [s.one(SG, "functions").id] and rule["fromPort"] == 443
    for name in ("sqs", "sts", "secretsmanager", "logs", "xray"):
        e = endpoints[name]
        assert e.plain("serviceName") == f"com.amazonaws.us-east-1.{name}"
        assert e.plain("vpcEndpointType") == "Interface" and e.plain("privateDnsEnabled")
        assert e.plain("subnetIds") == AWS_NET["subnetIds"]
        assert e.plain("securityGroupIds") == [endpoint_group.id]
    for name in ("dynamodb", "s3"):
        assert endpoints[name].plain("vpcEndpointType") == "Gateway"
        assert endpoints[name].plain("routeTableIds") == ["rtb-0a"]


def test_endpoints_follow_the_settings(stack) -> None:
    no_xray = _endpoints(stack("aws", awsNetwork=AWS_NET, xrayTracing=False))
    assert "xray" not in no_xray and "sqs" in no_xray
    existing = stack("aws", awsNetwork={**AWS_NET, "endpoints": False})
    assert not existing.of_type(ENDPOINT)
    assert existing.of_type("aws:lambda/function:Function")[0].plain("vpcConfig")


def test_without_the_setting_nothing_is_placed_in_a_vpc(stack) -> None:
    s = stack("both")
    assert not [r for r in s.resources if r.typ.startswith("aws:ec2/")]
    assert not any(fn.plain("vpcConfig") for fn in s.of_type("aws:lambda/function:Function"))
    assert not [r for r in s.resources if ":network:" in r.typ or ":privatedns:" in r.typ]
    assert s.one("azure-native:web:WebApp").plain("virtualNetworkSubnetId") is None


def test_function_roles_may_manage_interfaces_only_in_the_given_subnets(stack) -> None:
    s = stack("aws", awsNetwork=AWS_NET)
    for role in ("http", "worker"):
        doc = json.loads(
            s.one("aws:iam/rolePolicy:RolePolicy", f"{role}-vpc-policy").plain("policy")
        )
        by_sid = {st["Sid"]: st for st in doc["Statement"]}
        create = by_sid["CreateInterfacesInOurSubnets"]["Resource"]
        prefix = "arn:aws:ec2:us-east-1:123456789012"
        assert f"{prefix}:subnet/subnet-0a" in create and f"{prefix}:subnet/subnet-0b" in create
        assert f"{prefix}:security-group/sg-0a5a9" in create
        manage = by_sid["ManageInterfacesInOurVpc"]
        assert manage["Condition"] == {"ArnEquals": {"ec2:Vpc": f"{prefix}:vpc/vpc-0abc"}}


@pytest.mark.parametrize(
    ("network", "message"),
    [
        ({**AWS_NET, "routeTableIds": []}, "routeTableIds is required"),
        ({**AWS_NET, "subnetIds": ["nope"]}, "must be a subnet-"),
        ({**AWS_NET, "subnetIds": []}, "must not be empty"),
    ],
)
def test_bad_aws_network_is_refused(network: dict[str, Any], message: str) -> None:
    from paddock_infra.config import InfraConfigError

    from .test_config import load

    with pytest.raises(InfraConfigError, match=message):
        load(awsNetwork=json.dumps(network))


# ---- Azure --------------------------------------------------------------------------------------


def _azure(stack, **network: Any) -> Synth:
    return stack("azure", azureNetwork=network)


def test_function_app_joins_the_delegated_subnet_and_routes_everything_through_it(stack) -> None:
    s = _azure(stack)
    vnet = s.one("azure-native:network:VirtualNetwork")
    assert vnet.plain("addressSpace") == {"addressPrefixes": ["10.60.0.0/16"]}
    subnet = s.one("azure-native:network:Subnet", "integration")
    assert subnet.plain("addressPrefix") == "10.60.0.0/24"
    assert subnet.plain("delegations") == [
        {"name": "flex", "serviceName": "Microsoft.App/environments"}
    ]
    app = s.one("azure-native:web:WebApp")
    assert app.plain("virtualNetworkSubnetId") == subnet.id
    assert app.plain("siteConfig")["vnetRouteAllEnabled"] is True


def test_private_endpoints_for_storage_cosmos_and_key_vault(stack) -> None:
    s = _azure(stack)
    account = s.one("azure-native:storage:StorageAccount").id
    targets = {
        r.plain("privateEndpointName").rsplit("-pe-", 1)[1]: r.plain(
            "privateLinkServiceConnections"
        )[0]
        for r in s.of_type("azure-native:network:PrivateEndpoint")
    }
    assert targets == {
        "storage-blob": {
            "name": "storage-blob",
            "privateLinkServiceId": account,
            "groupIds": ["blob"],
        },
        "storage-queue": {
            "name": "storage-queue",
            "privateLinkServiceId": account,
            "groupIds": ["queue"],
        },
        "storage-table": {
            "name": "storage-table",
            "privateLinkServiceId": account,
            "groupIds": ["table"],
        },
        "cosmos": {
            "name": "cosmos",
            "privateLinkServiceId": s.one("azure-native:cosmosdb:DatabaseAccount").id,
            "groupIds": ["Table"],
        },
        "vault": {
            "name": "vault",
            "privateLinkServiceId": s.one("azure-native:keyvault:Vault").id,
            "groupIds": ["vault"],
        },
    }
    endpoint_subnet = s.one("azure-native:network:Subnet", "endpoint").id
    for pe in s.of_type("azure-native:network:PrivateEndpoint"):
        assert pe.plain("subnet") == {"id": endpoint_subnet}


def test_each_endpoint_resolves_through_a_zone_linked_to_the_vnet(stack) -> None:
    s = _azure(stack)
    zones = {
        z.id: z.plain("privateZoneName") for z in s.of_type("azure-native:privatedns:PrivateZone")
    }
    assert set(zones.values()) == {
        "privatelink.blob.core.windows.net",
        "privatelink.queue.core.windows.net",
        "privatelink.table.core.windows.net",
        "privatelink.table.cosmos.azure.com",
        "privatelink.vaultcore.azure.net",
    }
    vnet = s.one("azure-native:network:VirtualNetwork").id
    links = s.of_type("azure-native:privatedns:VirtualNetworkLink")
    assert {link.plain("privateZoneName") for link in links} == set(zones.values())
    assert all(link.plain("virtualNetwork") == {"id": vnet} for link in links)
    groups = s.of_type("azure-native:network:PrivateDnsZoneGroup")
    assert len(groups) == 5
    for group in groups:
        (config,) = group.plain("privateDnsZoneConfigs")
        assert config["privateDnsZoneId"] in zones


def test_public_access_is_off_on_storage_cosmos_and_key_vault(stack) -> None:
    s = _azure(stack)
    assert s.one("azure-native:storage:StorageAccount").plain("publicNetworkAccess") == "Disabled"
    assert s.one("azure-native:cosmosdb:DatabaseAccount").plain("publicNetworkAccess") == "Disabled"
    vault = s.one("azure-native:keyvault:Vault").plain("properties")
    assert vault["publicNetworkAccess"] == "Disabled"


def test_public_access_stays_on_when_the_setting_says_so(stack) -> None:
    s = _azure(stack, publicAccess=True)
    assert s.one("azure-native:storage:StorageAccount").plain("publicNetworkAccess") is None
    assert s.one("azure-native:cosmosdb:DatabaseAccount").plain("publicNetworkAccess") == "Enabled"
    assert s.one("azure-native:keyvault:Vault").plain("properties")["publicNetworkAccess"] == (
        "Enabled"
    )
    assert s.of_type("azure-native:network:PrivateEndpoint")


def test_deployer_addresses_pass_the_storage_firewall_and_nothing_else(stack) -> None:
    s = _azure(stack, deployerIpRanges=["203.0.113.0/28"])
    account = s.one("azure-native:storage:StorageAccount")
    assert account.plain("publicNetworkAccess") == "Enabled"
    assert account.plain("networkRuleSet") == {
        "defaultAction": "Deny",
        "bypass": "None",
        "ipRules": [{"iPAddressOrRange": "203.0.113.0/28"}],
    }
    assert s.one("azure-native:cosmosdb:DatabaseAccount").plain("publicNetworkAccess") == "Disabled"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"azureNetwork": "{}", "azurePlan": "consumption"}, "needs paddock:azurePlan flex"),
        ({"azureNetwork": '{"integrationSubnet": "10.9.0.0/24"}'}, "inside addressSpace"),
        ({"azureNetwork": '{"endpointSubnet": "10.60.0.0/25"}'}, "overlap"),
        ({"azureNetwork": '{"addressSpace": "10.60.0.1/16"}'}, "azureNetwork"),
    ],
)
def test_bad_azure_network_is_refused(values: dict[str, str], message: str) -> None:
    from paddock_infra.config import InfraConfigError

    from .test_config import load

    with pytest.raises(InfraConfigError, match=message):
        load(**values)
