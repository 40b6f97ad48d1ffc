"""Stack configuration: defaults, validation with messages naming the key, policy builders."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from .harness import BASE_CONFIG, Recorder


def load(**values: Any) -> Any:
    from paddock_infra.config import load_config

    pulumi.runtime.set_mocks(Recorder(), project="paddock", stack="dev", preview=False)
    merged = {**BASE_CONFIG, **values}
    pulumi.runtime.set_all_config(
        {
            f"paddock:{k}": v if isinstance(v, str) else json.dumps(v)
            for k, v in merged.items()
            if v is not None
        }
    )
    return load_config(pulumi.Config("paddock"), stack="dev")


def test_defaults() -> None:
    cfg = load()
    assert (cfg.targets, cfg.base_name, cfg.log_retention_days) == ("both", "paddock-dev", 30)
    assert cfg.deploy_aws and cfg.deploy_azure and cfg.federate
    assert (cfg.aws.http_reserved_concurrency, cfg.aws.worker_reserved_concurrency) == (10, 5)
    assert (cfg.azure.plan, cfg.azure.store) == ("flex", "cosmos")
    assert cfg.llm.api_key is None


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"targets": "gcp"}, "paddock:targets"),
        ({"authIssuer": "http://plain.example"}, "paddock:authIssuer"),
        ({"authAudience": None}, "authAudience"),
        ({"logRetentionDays": 10}, "paddock:logRetentionDays"),
        ({"httpReservedConcurrency": 0}, "paddock:httpReservedConcurrency"),
        ({"httpTimeoutSeconds": 31}, "paddock:httpTimeoutSeconds"),
        ({"azurePlan": "premium"}, "paddock:azurePlan"),
        ({"azureQueueName": "Bad_Name"}, "paddock:azureQueueName"),
        ({"flexInstanceMemoryMb": 1000}, "paddock:flexInstanceMemoryMb"),
        ({"extraEnv": {"PADDOCK_STORE": "memory"}}, "paddock:extraEnv"),
        (
            {"awsToolGrants": [{"actions": ["s3:*"], "resources": ["arn:aws:s3:::b/k"]}]},
            "awsToolGrants\\[0\\]",
        ),
        (
            {"awsToolGrants": [{"actions": ["s3:GetObject"], "resources": ["*"]}]},
            "awsToolGrants\\[0\\]",
        ),
        (
            {
                "awsToolGrants": [
                    {"actions": ["sqs:SendMessage"], "resources": ["arn:aws:sqs:us-east-1:*:q"]}
                ]
            },
            "awsToolGrants\\[0\\]",
        ),
        (
            {
                "azureToolGrants": [
                    {
                        "role": "acdd72a7-3385-48ef-bd42-f606fba81ae7",
                        "scope": "/subscriptions/s/resourceGroups/rg",
                    }
                ]
            },
            "azureToolGrants\\[0\\]",
        ),
    ],
)
def test_invalid_values_are_refused_naming_the_key(values: dict[str, Any], message: str) -> None:
    from paddock_infra.config import InfraConfigError

    with pytest.raises((InfraConfigError, pulumi.ConfigMissingError), match=message):
        load(**values)


def test_narrow_grants_and_unreserved_concurrency_are_accepted() -> None:
    cfg = load(
        workerReservedConcurrency=-1,
        awsToolGrants=[
            {
                "actions": ["execute-api:Invoke"],
                "resources": ["arn:aws:execute-api:eu-west-1:123456789012:abc/prod/POST/orders"],
            }
        ],
        azureToolGrants=[
            {
                "role": "acdd72a7-3385-48ef-bd42-f606fba81ae7",
                "scope": "/subscriptions/s/resourceGroups/rg/providers/"
                "Microsoft.Storage/storageAccounts/erp",
            }
        ],
    )
    assert cfg.aws.worker_reserved_concurrency == -1
    assert cfg.aws.tool_grants[0].actions == ("execute-api:Invoke",)
    assert cfg.azure.tool_grants[0].scope.endswith("/storageAccounts/erp")


def test_unreserved_worker_has_no_esm_concurrency_cap(stack) -> None:
    s = stack("aws", workerReservedConcurrency=-1)
    assert "scalingConfig" not in s.one("aws:lambda/eventSourceMapping:EventSourceMapping").inputs


def test_policy_builders_are_plain_data() -> None:
    from paddock_infra import policies

    store = policies.StoreArns(
        table="arn:t", indexes=("arn:t/index/a",), payload_objects="arn:aws:s3:::b/runs/*"
    )
    doc = policies.worker_function_policy(
        store,
        queue_arn="arn:q",
        log_group_arn="arn:lg",
        tools_role_arn="arn:r",
        federate_to_entra=True,
    )
    assert json.loads(json.dumps(doc)) == doc
    sids = [s["Sid"] for s in doc["Statement"]]
    assert len(sids) == len(set(sids))
    assert "EntraTokenNoResourceType" in sids
    assert policies.tool_grants_policy([]) is None
    deny = policies.deny_insecure_transport("s3", ["arn:b"])["Statement"][0]
    assert deny["Effect"] == "Deny" and deny["Condition"]["Bool"]["aws:SecureTransport"] == "false"


def _example() -> dict[str, Any]:
    import yaml

    from .harness import INFRA

    text = (INFRA / "Pulumi.dev.yaml.example").read_text()
    return {"text": text, "config": yaml.safe_load(text)["config"]}


def test_example_documents_every_key_the_program_reads() -> None:
    import re

    from .harness import INFRA

    source = (INFRA / "paddock_infra" / "config.py").read_text()
    read = set(re.findall(r'(?:cfg\.\w+|_\w+)\(\s*(?:cfg,\s*)?"([a-zA-Z]+)"', source))
    documented = set(re.findall(r"paddock:([a-zA-Z]+)", _example()["text"]))
    assert len(read) >= 40
    assert read == documented


def test_example_values_are_the_program_defaults() -> None:
    values = {k.removeprefix("paddock:"): v for k, v in _example()["config"].items()}
    values["authIssuer"] = BASE_CONFIG["authIssuer"]
    values["authAudience"] = BASE_CONFIG["authAudience"]
    documented = load(**values, llmModel=None)
    defaults = load(llm="rules", llmModel=None)
    assert documented == defaults
