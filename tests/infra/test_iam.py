"""Every IAM document the program emits parses, and grants exact actions on exact resources.

The allow-list below is the complete set of wildcards the program may use, each with the reason
AWS needs it. Anything else with a ``*`` in an Allow statement fails the parametrised check.
"""

from __future__ import annotations

import functools
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest

from .harness import ACCOUNT, Synth, synth

STAR_RESOURCE_ACTIONS = {
    # X-Ray defines no resource types: PutTraceSegments/PutTelemetryRecords need Resource "*".
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    # STS outbound federation defines no resource type; the statement must carry a condition
    # on sts:IdentityTokenAudience instead (checked below).
    "sts:GetWebIdentityToken",
}
STAR_SUFFIXES = {
    # Lambda picks log stream names at run time; the prefix must be one of our log groups.
    ":log-stream:*": {"logs:CreateLogStream", "logs:PutLogEvents"},
    # Claim-check payload keys are content hashes made at run time, under runs/ of our bucket.
    "/runs/*": {"s3:GetObject", "s3:PutObject"},
}
SECRETS_PREFIX = {
    # Secrets Manager appends a random suffix to each secret's ARN, and tool secrets are
    # created by operators after the deploy: the worker may read this stack's prefix only.
    f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:paddock-dev/*": {
        "secretsmanager:GetSecretValue"
    },
}
TOOL_GRANTS = [
    {
        "actions": ["execute-api:Invoke"],
        "resources": [f"arn:aws:execute-api:us-east-1:{ACCOUNT}:abc123/prod/POST/orders"],
    }
]
CONFIGS = {
    "both+grants": {"targets": "both", "awsToolGrants": TOOL_GRANTS},
    "aws-no-xray": {"targets": "aws", "xrayTracing": False},
}


@functools.cache
def _synth(label: str) -> Synth:
    package = Path(tempfile.mkdtemp()) / "aws-lambda.zip"
    package.write_bytes(b"PK\x05\x06" + b"\x00" * 18)
    return synth(CONFIGS[label], package=package)


def _documents(label: str) -> list[tuple[str, dict[str, Any], Synth]]:
    fields = {
        "aws:iam/role:Role": "assumeRolePolicy",
        "aws:iam/rolePolicy:RolePolicy": "policy",
        "aws:s3/bucketPolicy:BucketPolicy": "policy",
        "aws:sqs/queuePolicy:QueuePolicy": "policy",
    }
    s = _synth(label)
    docs = []
    for r in s.resources:
        if r.typ in fields:
            text = r.plain(fields[r.typ])
            docs.append((f"{label}:{r.name}.{fields[r.typ]}", json.loads(text), s))
    return docs


ALL_DOCS = [d for label in CONFIGS for d in _documents(label)]


def _statements(doc: dict[str, Any]) -> list[dict[str, Any]]:
    stmts = doc["Statement"]
    return stmts if isinstance(stmts, list) else [stmts]


def _listed(value: Any) -> list[str]:
    return value if isinstance(value, list) else [value]


def _known_arns(s: Synth) -> set[str]:
    known = {
        r.outputs["arn"] for r in s.resources if r.typ.startswith("aws:") and "arn" in r.outputs
    }
    for table in s.of_type("aws:dynamodb/table:Table"):
        for index in table.plain("globalSecondaryIndexes"):
            known.add(f"{table.outputs['arn']}/index/{index['name']}")
    known.update(res for grant in TOOL_GRANTS for res in grant["resources"])
    return known


def test_there_are_documents_to_check() -> None:
    assert len(ALL_DOCS) >= 12


@pytest.mark.parametrize(("where", "doc", "s"), ALL_DOCS, ids=[d[0] for d in ALL_DOCS])
def test_policy_is_valid_and_has_no_unexplained_wildcard(
    where: str, doc: dict[str, Any], s: Synth
) -> None:
    assert doc["Version"] == "2012-10-17"
    known = _known_arns(s)
    for stmt in _statements(doc):
        assert stmt["Effect"] in ("Allow", "Deny")
        actions = _listed(stmt["Action"])
        assert actions and all(":" in a for a in actions)
        if stmt["Effect"] == "Deny":
            # Deny only narrows: "<service>:*" here refuses every action without TLS.
            assert stmt["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            continue
        assert not [a for a in actions if "*" in a], f"{where}: wildcard action"
        if "Principal" in stmt:  # a trust policy: checked in its own tests
            continue
        for resource in _listed(stmt["Resource"]):
            if resource == "*":
                assert set(actions) <= STAR_RESOURCE_ACTIONS, f"{where}: {actions} on '*'"
                if "sts:GetWebIdentityToken" in actions:
                    assert "sts:IdentityTokenAudience" in json.dumps(stmt.get("Condition"))
                continue
            if resource in SECRETS_PREFIX:
                assert set(actions) == SECRETS_PREFIX[resource], f"{where}: {actions}"
                continue
            suffix = next((x for x in STAR_SUFFIXES if resource.endswith(x)), None)
            if suffix is not None:
                assert set(actions) & STAR_SUFFIXES[suffix], f"{where}: {resource}"
                resource = resource.removesuffix(suffix)
            assert "*" not in resource, f"{where}: unexplained wildcard in {resource}"
            assert resource in known, f"{where}: {resource} is not a resource of this stack"


def _policy_of(s: Synth, role_part: str) -> dict[str, Any]:
    return json.loads(s.one("aws:iam/rolePolicy:RolePolicy", role_part).plain("policy"))


def _actions(doc: dict[str, Any]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for stmt in _statements(doc):
        for action in _listed(stmt["Action"]):
            found.setdefault(action, set()).update(_listed(stmt["Resource"]))
    return found


def test_one_role_per_function() -> None:
    s = _synth("both+grants")
    roles = {fn.name: fn.plain("role") for fn in s.of_type("aws:lambda/function:Function")}
    assert len(roles) == 2 and len(set(roles.values())) == 2
    for fn_name, role_arn in roles.items():
        assert role_arn.endswith(f":role/{fn_name}")


def test_http_role_cannot_consume_work_or_assume_roles() -> None:
    http = _actions(_policy_of(_synth("both+grants"), "http-policy"))
    assert "sqs:SendMessage" in http
    assert (
        not {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sts:AssumeRole", "sts:GetWebIdentityToken"}
        & http.keys()
    )


def test_worker_assumes_only_the_tools_role_and_consumes_only_the_work_queue() -> None:
    s = _synth("both+grants")
    worker = _actions(_policy_of(s, "worker-policy"))
    tools = s.one("aws:iam/role:Role", "tools-role").outputs["arn"]
    work = next(
        q.outputs["arn"] for q in s.of_type("aws:sqs/queue:Queue") if not q.name.endswith("dlq")
    )
    assert worker["sts:AssumeRole"] == {tools}
    assert worker["sqs:ReceiveMessage"] == {work}
    assert worker["sqs:DeleteMessage"] == {work}


def test_xray_statement_follows_config() -> None:
    assert "xray:PutTraceSegments" in _actions(_policy_of(_synth("both+grants"), "http-policy"))
    assert "xray:PutTraceSegments" not in _actions(_policy_of(_synth("aws-no-xray"), "http-policy"))


def test_lambda_roles_trust_only_lambda() -> None:
    s = _synth("both+grants")
    for part in ("http-role", "worker-role"):
        trust = json.loads(s.one("aws:iam/role:Role", part).plain("assumeRolePolicy"))
        (stmt,) = _statements(trust)
        assert stmt["Principal"] == {"Service": "lambda.amazonaws.com"}
        assert stmt["Action"] == "sts:AssumeRole"


def test_tools_role_trusts_only_the_worker_and_holds_the_configured_grants() -> None:
    s = _synth("both+grants")
    tools = s.one("aws:iam/role:Role", "tools-role")
    (stmt,) = _statements(json.loads(tools.plain("assumeRolePolicy")))
    assert stmt["Principal"] == {"AWS": s.one("aws:iam/role:Role", "worker-role").outputs["arn"]}
    grants = _actions(_policy_of(s, "tools-policy"))
    assert grants == {"execute-api:Invoke": set(TOOL_GRANTS[0]["resources"])}


def test_azure_workload_role_trusts_the_function_identity_by_aud_and_sub() -> None:
    s = _synth("both+grants")
    oidc = s.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    tenant_url = oidc.plain("url")
    assert tenant_url.startswith("https://sts.windows.net/") and tenant_url.endswith("/")
    assert oidc.plain("clientIdLists") == ["api://paddock-aws"]
    role = s.one("aws:iam/role:Role", "azure-workload-role")
    (stmt,) = _statements(json.loads(role.plain("assumeRolePolicy")))
    assert stmt["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert stmt["Principal"] == {"Federated": oidc.outputs["arn"]}
    host = tenant_url.removeprefix("https://")
    principal = s.one("azure-native:web:WebApp").outputs["identity"]["principalId"]
    assert stmt["Condition"] == {
        "StringEquals": {f"{host}:aud": "api://paddock-aws", f"{host}:sub": principal}
    }
    policy = _actions(_policy_of(s, "azure-workload-policy"))
    assert "execute-api:Invoke" in policy and "sqs:SendMessage" in policy
    assert "sqs:ReceiveMessage" not in policy


def test_worker_may_mint_entra_tokens_only_when_federated() -> None:
    assert "sts:GetWebIdentityToken" in _actions(_policy_of(_synth("both+grants"), "worker-policy"))
    assert "sts:GetWebIdentityToken" not in _actions(
        _policy_of(_synth("aws-no-xray"), "worker-policy")
    )
