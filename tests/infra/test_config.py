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


def test_each_bad_value_and_unknown_key_is_one_line_naming_the_key() -> None:
    from paddock_infra.config import InfraConfigError

    with pytest.raises(InfraConfigError) as refused:
        load(
            targets="gcp",
            httpTimeoutSeconds=31,
            payloadExpirationDays=0,  # read by both clouds, reported once
            awsToolGrants=[
                {"actions": ["s3:*"], "resources": ["arn:aws:s3:::b/k"], "sid": "typo"},
            ],
            awsRegon="eu-west-1",
        )
    assert str(refused.value).splitlines() == [
        "paddock:targets must be 'aws', 'azure' or 'both'; got 'gcp'",
        "paddock:httpTimeoutSeconds must be between 1 and 30; got '31'",
        "paddock:payloadExpirationDays must be between 1 and 3650; got '0'",
        "paddock:awsToolGrants[0].actions[0] must be one exact 'service:Action' (no wildcards);"
        " got 's3:*'",
        "paddock:awsToolGrants[0].sid is not expected here",
        "paddock:awsRegon is not a setting this program reads (see infra/Pulumi.dev.yaml.example)",
    ]


@pytest.mark.parametrize("key", ["aws", "stack"])
def test_keys_spelt_like_a_section_are_unknown_settings(key: str) -> None:
    from paddock_infra.config import InfraConfigError

    with pytest.raises(InfraConfigError, match=f"^paddock:{key} is not a setting"):
        load(**{key: "x"})


def test_a_bad_stack_name_is_refused() -> None:
    from paddock_infra.config import InfraConfigError, load_config

    load()
    with pytest.raises(InfraConfigError, match=r"^stack name must be lowercase"):
        load_config(pulumi.Config("paddock"), stack="Dev")


def test_choices_are_read_regardless_of_case_and_spaces() -> None:
    cfg = load(targets=" AWS ", azurePlan="Consumption", appInsights=" OFF ")
    assert (cfg.targets, cfg.azure.plan, cfg.telemetry.app_insights) == (
        "aws",
        "consumption",
        "off",
    )


def test_every_setting_is_described() -> None:
    from paddock_infra import config

    models = [config.InfraConfig, config.ToolGrant, config.AzureToolGrant]
    models += [config.AuthConfig, config.LlmConfig, config.TelemetryConfig]
    models += [config.AwsConfig, config.AzureConfig]
    undescribed = [
        f"{model.__name__}.{name}"
        for model in models
        for name, field in model.model_fields.items()
        if not field.description
    ]
    assert undescribed == []


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

    from paddock_infra.config import setting_keys

    read = setting_keys()
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
