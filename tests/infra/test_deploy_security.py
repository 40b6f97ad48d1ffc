"""Every deployment variant, scanned whole: no wildcard action or unexplained wildcard resource
in any IAM statement of any resource, every role assignment scoped to one resource of the
stack, every configured secret travelling only as a Pulumi secret.

Unlike test_iam.py (which reads the known policy fields), this walks every input of every
resource, so a policy document added anywhere (a new module, a networking policy, a bucket or
endpoint policy) is checked without the test knowing about it.
"""

from __future__ import annotations

import functools
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pulumi.runtime import rpc

from .harness import ACCOUNT, SECRET, Synth, synth
from .test_iam import SECRETS_PREFIX, STAR_RESOURCE_ACTIONS, STAR_SUFFIXES

OTLP_HEADERS = "api-key=planted-otlp-header-secret"
CAPABILITY_KEY = "-----BEGIN PRIVATE KEY-----\nplanted-capability-key\n-----END PRIVATE KEY-----"
SECRETS = {"llm": SECRET, "otlp": OTLP_HEADERS, "capability": CAPABILITY_KEY}

NETWORK_STAR_ACTIONS = {
    # EC2 describe calls define no resource types; Lambda needs them to manage the interfaces.
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
}
NETWORK_SUFFIXES = {
    # EC2 picks network interface ids at run time; deletes and address changes carry an
    # ec2:Vpc condition, creation is bounded by the subnets and groups in the same statement.
    ":network-interface/*": {
        "ec2:CreateNetworkInterface",
        "ec2:DeleteNetworkInterface",
        "ec2:AssignPrivateIpAddresses",
        "ec2:UnassignPrivateIpAddresses",
    },
}
VARIANTS = {
    "everything": {
        "targets": "both",
        "awsNetwork": {
            "vpcId": "vpc-0abc",
            "subnetIds": ["subnet-0a", "subnet-0b"],
            "routeTableIds": ["rtb-0a"],
            "securityGroupIds": ["sg-0a5a9"],
        },
        "azureNetwork": {"deployerIpRanges": ["203.0.113.0/28"]},
        "otlpEndpoint": "https://otel.example.com",
        "capabilityKeyId": "cap-1",
        "awsToolGrants": [
            {
                "actions": ["execute-api:Invoke"],
                "resources": [f"arn:aws:execute-api:us-east-1:{ACCOUNT}:abc123/prod/POST/orders"],
            }
        ],
    },
    "consumption": {"targets": "both", "azurePlan": "consumption", "toolSecrets": False},
    "aws-private": {
        "targets": "aws",
        "awsNetwork": {"vpcId": "vpc-0abc", "subnetIds": ["subnet-0a"], "endpoints": False},
    },
}


@functools.cache
def _synth(label: str) -> Synth:
    package = Path(tempfile.mkdtemp()) / "pkg.zip"
    package.write_bytes(b"PK\x05\x06" + b"\x00" * 18)
    config = VARIANTS[label]
    secrets = {}
    if "otlpEndpoint" in config:
        secrets = {"otlpHeaders": OTLP_HEADERS, "capabilityKey": CAPABILITY_KEY}
    return synth(config, package=package, secrets=secrets)


def _strings(value: Any) -> Iterator[str]:
    value = rpc.unwrap_rpc_secret(value) if rpc.is_rpc_secret(value) else value
    if isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, str):
        yield value


def _policy_documents(s: Synth) -> list[tuple[str, dict[str, Any]]]:
    docs = []
    for r in s.resources:
        for text in _strings(r.inputs):
            if '"Statement"' not in text:
                continue
            doc = json.loads(text)
            if isinstance(doc, dict) and "Statement" in doc:
                docs.append((r.name, doc))
    return docs


def _listed(value: Any) -> list[str]:
    return value if isinstance(value, list) else [value]


def _check_statement(where: str, stmt: dict[str, Any]) -> None:
    actions = _listed(stmt["Action"])
    if stmt["Effect"] == "Deny":
        assert stmt["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}, where
        return
    assert not [a for a in actions if "*" in a], f"{where}: wildcard action {actions}"
    if "Principal" in stmt:
        assert "*" not in json.dumps(stmt["Principal"]), f"{where}: anyone may assume"
        return
    for resource in _listed(stmt["Resource"]):
        if resource == "*":
            allowed = STAR_RESOURCE_ACTIONS | NETWORK_STAR_ACTIONS
            assert set(actions) <= allowed, f"{where}: {actions} on '*'"
            continue
        if resource in SECRETS_PREFIX:
            assert set(actions) == SECRETS_PREFIX[resource], where
            continue
        suffixes = {**STAR_SUFFIXES, **NETWORK_SUFFIXES}
        suffix = next((x for x in suffixes if resource.endswith(x)), None)
        if suffix is not None:
            assert set(actions) <= suffixes[suffix], f"{where}: {actions} on {resource}"
            resource = resource.removesuffix(suffix)
        assert "*" not in resource, f"{where}: unexplained wildcard in {resource}"


@pytest.mark.parametrize("label", sorted(VARIANTS))
def test_no_wildcard_in_any_iam_statement(label: str) -> None:
    docs = _policy_documents(_synth(label))
    assert len(docs) >= 10
    for where, doc in docs:
        for stmt in _listed(doc["Statement"]):
            _check_statement(f"{label}:{where}", stmt)


@pytest.mark.parametrize("label", sorted(VARIANTS))
def test_every_role_assignment_is_scoped_to_one_resource_of_the_stack(label: str) -> None:
    s = _synth(label)
    assignments = [
        r
        for r in s.resources
        if r.typ
        in (
            "azure-native:authorization:RoleAssignment",
            "azure-native:cosmosdb:TableResourceTableRoleAssignment",
        )
    ]
    assert assignments or VARIANTS[label]["targets"] == "aws"
    for ra in assignments:
        scope = ra.plain("scope")
        assert "*" not in scope and "/providers/" in scope, f"{ra.name}: {scope}"
        target = s.by_id(scope)
        assert target is not None, f"{ra.name}: {scope} is not a resource of this stack"
        assert target.typ not in (
            "azure-native:resources:ResourceGroup",
            "azure-native:storage:StorageAccount",
        ), f"{ra.name} is scoped to a whole {target.typ}"


def _plain_paths(value: Any, needle: str, path: str = "") -> list[str]:
    if rpc.is_rpc_secret(value):
        return []
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _plain_paths(v, needle, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _plain_paths(v, needle, f"{path}[{i}]")]
    return [path] if isinstance(value, str) and needle in value else []


@pytest.mark.parametrize("name", sorted(SECRETS))
def test_every_secret_travels_only_marked_secret(name: str) -> None:
    s = _synth("everything")
    needle = SECRETS[name].splitlines()[1] if name == "capability" else SECRETS[name]
    found = [r for r in s.resources if any(needle in t for t in _strings(r.inputs))]
    assert found, f"the {name} secret reaches no resource"
    leaks = [f"{r.name}{p}" for r in s.resources for p in _plain_paths(r.inputs, needle)]
    assert leaks == []
