"""Run the Pulumi program under ``pulumi.runtime.set_mocks`` and record what it asks for.

No CLI, no provider plugins, no cloud: the mock monitor hands every resource registration to
``Recorder.new_resource``, which keeps the inputs (camelCase keys, ints as floats) and returns
the few computed outputs the program reads (ARNs, URLs, identities, endpoints).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import rpc

INFRA = Path(__file__).resolve().parents[2] / "infra"
if str(INFRA) not in sys.path:
    sys.path.insert(0, str(INFRA))

ACCOUNT = "123456789012"
SUBSCRIPTION = "11111111-2222-3333-4444-555555555555"
TENANT = "99999999-8888-7777-6666-555555555555"
SECRET = "sk-test-planted-secret-0123456789"
"""Planted as the LLM key: it may appear only inside values marked secret."""
ISSUER = "https://login.microsoftonline.com/tenant/v2.0"
EXISTING_INSIGHTS = (
    f"/subscriptions/{SUBSCRIPTION}/resourceGroups/shared-monitoring/providers/"
    "microsoft.insights/components/shared-insights"
)
EXISTING_INSIGHTS_CONNECTION = "InstrumentationKey=11111111;IngestionEndpoint=https://shared/"


@dataclass
class Res:
    typ: str
    name: str
    inputs: dict[str, Any]
    id: str
    outputs: dict[str, Any]

    def plain(self, key: str) -> Any:
        """An input with secret wrappers removed."""
        return unwrap(self.inputs.get(key))


@dataclass
class Synth:
    resources: list[Res]
    calls: list[str]
    outputs: dict[str, Any] = field(default_factory=dict)
    urns: list[str] = field(default_factory=list)

    def of_type(self, typ: str) -> list[Res]:
        return [r for r in self.resources if r.typ == typ]

    def one(self, typ: str, name_part: str = "") -> Res:
        found = [r for r in self.of_type(typ) if name_part in r.name]
        assert len(found) == 1, f"expected one {typ} named *{name_part}*, got " + str(
            [r.name for r in found]
        )
        return found[0]

    def by_id(self, rid: str) -> Res | None:
        return next((r for r in self.resources if r.id == rid), None)

    def types(self) -> set[str]:
        return {r.typ for r in self.resources}


def unwrap(value: Any) -> Any:
    if rpc.is_rpc_secret(value):
        return unwrap(rpc.unwrap_rpc_secret(value))
    if isinstance(value, dict):
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


class Recorder(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.resources: list[Res] = []
        self.calls: list[str] = []

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:  # type: ignore[override]
        self.calls.append(args.token)
        results = {
            "aws:index/getCallerIdentity:getCallerIdentity": {
                "accountId": ACCOUNT,
                "arn": f"arn:aws:iam::{ACCOUNT}:user/ci",
                "userId": "AIDA",
                "id": ACCOUNT,
            },
            "aws:index/getPartition:getPartition": {
                "partition": "aws",
                "dnsSuffix": "amazonaws.com",
                "reverseDnsPrefix": "com.amazonaws",
                "id": "aws",
            },
            "azure-native:authorization:getClientConfig": {
                "subscriptionId": SUBSCRIPTION,
                "tenantId": TENANT,
                "clientId": "client",
                "objectId": "deployer",
            },
            "azure-native:applicationinsights:getComponent": {
                "connectionString": EXISTING_INSIGHTS_CONNECTION,
                "id": EXISTING_INSIGHTS,
                "name": EXISTING_INSIGHTS.rsplit("/", 1)[1],
            },
        }
        return results.get(args.token, {})

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        inputs = dict(args.inputs)
        rid, extra = _computed(args.typ, args.name, unwrap(inputs))
        outputs = {**inputs, **extra}
        self.resources.append(Res(args.typ, args.name, inputs, rid, outputs))
        return rid, outputs


def _computed(typ: str, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Ids and the outputs the program reads, shaped like the real providers'."""
    if typ.startswith("azure-native:"):
        module, kind = typ.split(":")[1:3]
        rid = (
            f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg/providers/Mock.{module}/{kind}/{name}"
        )
        return rid, _azure_outputs(kind, name, inputs, rid)
    real = inputs.get("name") or inputs.get("bucket") or name
    service = typ.split(":")[1].split("/")[0]
    arn = f"arn:aws:{service}:us-east-1:{ACCOUNT}:{real}"
    extra: dict[str, Any] = {"arn": arn, "name": real}
    if typ == "aws:iam/role:Role":
        extra["arn"] = f"arn:aws:iam::{ACCOUNT}:role/{real}"
    elif typ == "aws:sqs/queue:Queue":
        extra["url"] = f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/{real}"
    elif typ == "aws:s3/bucket:Bucket":
        extra.update(arn=f"arn:aws:s3:::{real}", bucket=real)
    elif typ == "aws:lambda/function:Function":
        extra["invokeArn"] = f"arn:aws:apigateway:us-east-1:lambda:path/{arn}/invocations"
    elif typ == "aws:apigatewayv2/api:Api":
        extra.update(
            apiEndpoint=f"https://{name}.execute-api.us-east-1.amazonaws.com",
            executionArn=f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{name}",
        )
    elif typ == "aws:iam/outboundWebIdentityFederation:OutboundWebIdentityFederation":
        extra["issuerIdentifier"] = "https://abc123.tokens.sts.global.api.aws"
    elif typ == "aws:cloudwatch/logGroup:LogGroup":
        extra["arn"] = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{real}"
    return f"{name}-id", extra


def _azure_outputs(kind: str, name: str, inputs: dict[str, Any], rid: str) -> dict[str, Any]:
    out: dict[str, Any] = {"id": rid, "name": _azure_name(inputs) or name}
    if kind == "StorageAccount":
        host = out["name"]
        out["primaryEndpoints"] = {
            s: f"https://{host}.{s}.core.windows.net/" for s in ("blob", "queue", "table")
        }
    elif kind == "WebApp":
        out["identity"] = {
            "type": "SystemAssigned",
            "principalId": f"principal-of-{name}",
            "tenantId": TENANT,
        }
        out["defaultHostName"] = f"{out['name']}.azurewebsites.net"
    elif kind == "UserAssignedIdentity":
        out.update(
            clientId=f"client-of-{name}", principalId=f"principal-of-{name}", tenantId=TENANT
        )
    elif kind == "Component":
        out["connectionString"] = "InstrumentationKey=00000000;IngestionEndpoint=https://x/"
    elif kind == "Vault":
        out["properties"] = {
            **inputs.get("properties", {}),
            "vaultUri": f"https://{out['name']}.vault.azure.net/",
        }
    elif kind == "Topic":
        out["endpoint"] = f"https://{out['name']}.westeurope-1.eventgrid.azure.net/api/events"
    elif kind == "Secret":
        vault = inputs.get("vaultName")
        out["properties"] = {
            "secretUri": f"https://{vault}.vault.azure.net/secrets/{inputs.get('secretName')}"
        }
    return out


def _azure_name(inputs: dict[str, Any]) -> str | None:
    for key in (
        "topicName",
        "queueName",
        "containerName",
        "tableName",
        "secretName",
        "vaultName",
        "workspaceName",
        "subnetName",
        "virtualNetworkLinkName",
        "privateDnsZoneGroupName",
        "privateZoneName",
        "privateEndpointName",
        "virtualNetworkName",
        "resourceName",
        "name",
        "accountName",
        "resourceGroupName",
    ):
        if isinstance(inputs.get(key), str):
            return str(inputs[key])
    return None


BASE_CONFIG = {
    "authIssuer": ISSUER,
    "authAudience": "api://paddock",
    "llm": "openai",
    "llmModel": "gpt-4o-mini",
}


def synth(
    config: dict[str, Any],
    *,
    secret: str | None = SECRET,
    package: Path | None = None,
    stack: str = "dev",
    secrets: dict[str, str] | None = None,
) -> Synth:
    """Run ``paddock_infra.program.build`` under fresh mocks with ``config`` (``paddock:`` keys);
    ``secrets`` are further ``paddock:`` keys set as secret config."""
    recorder = Recorder()
    pulumi.runtime.set_mocks(recorder, project="paddock", stack=stack, preview=False)
    values = {**BASE_CONFIG, **config}
    if package is not None:
        values.setdefault("awsLambdaPackage", str(package))
        values.setdefault("azureFunctionPackage", str(package))
    flat = {f"paddock:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in values.items()}
    secret_keys = []
    if secret is not None:
        flat["paddock:llmApiKey"] = secret
        secret_keys.append("paddock:llmApiKey")
    for key, value in (secrets or {}).items():
        flat[f"paddock:{key}"] = value
        secret_keys.append(f"paddock:{key}")
    pulumi.runtime.set_all_config(flat, secret_keys)

    from paddock_infra.config import load_config
    from paddock_infra.program import build

    resolved: dict[str, Any] = {}

    @pulumi.runtime.test
    def run() -> pulumi.Output[None]:
        outputs = build(load_config())
        return pulumi.Output.all(**outputs).apply(resolved.update)

    run()
    monitor = pulumi.runtime.settings.get_monitor()
    urns = list(monitor.get_registered_resources())
    return Synth(resources=recorder.resources, calls=recorder.calls, outputs=resolved, urns=urns)


def parent_type(urn: str) -> str:
    """The type of a resource's parent, read from its URN (``parent$child`` qualified type)."""
    qualified = urn.split("::")[2].split("$")
    return qualified[-2] if len(qualified) > 1 else ""
