"""Bedrock for the AWS worker (``paddock:llm bedrock``): the model setting reaches the worker,
and the worker role may invoke exactly the configured model, never a wildcard."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .harness import ACCOUNT, SECRET, Synth
from .test_config import load

PROFILE = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
MODEL = "anthropic.claude-haiku-4-5-20251001-v1:0"
REGIONS = ["us-east-1", "us-east-2", "us-west-2"]
APP_PROFILE = f"arn:aws:bedrock:eu-west-1:{ACCOUNT}:application-inference-profile/x1"
BEDROCK = {"llm": "bedrock", "bedrockModelId": PROFILE, "bedrockModelRegions": REGIONS}


def _env(s: Synth) -> dict[str, dict[str, Any]]:
    return {
        f.plain("name"): f.plain("environment")["variables"]
        for f in s.of_type("aws:lambda/function:Function")
    }


def _statements(s: Synth) -> dict[str, list[dict[str, Any]]]:
    return {
        r.name: json.loads(r.plain("policy"))["Statement"]
        for r in s.of_type("aws:iam/rolePolicy:RolePolicy")
    }


def _bedrock_actions(statements: list[dict[str, Any]]) -> list[str]:
    return [a for st in statements for a in st["Action"] if a.startswith("bedrock:")]


def test_a_profile_is_invocable_in_its_regions_only(stack: Any) -> None:
    s = stack("aws", **BEDROCK)
    policy = s.one("aws:iam/rolePolicy:RolePolicy", "worker-bedrock")
    role = s.by_id(policy.plain("role"))
    assert role is not None and role.name.endswith("worker-role")
    (statement,) = json.loads(policy.plain("policy"))["Statement"]
    assert statement["Effect"] == "Allow" and statement["Action"] == ["bedrock:InvokeModel"]
    assert statement["Resource"] == [
        f"arn:aws:bedrock:us-east-1:{ACCOUNT}:inference-profile/{PROFILE}",
        *(f"arn:aws:bedrock:{r}::foundation-model/{MODEL}" for r in REGIONS),
    ]
    assert "*" not in json.dumps(statement)


def test_only_the_worker_role_touches_bedrock(stack: Any) -> None:
    s = stack("aws", **BEDROCK)
    granted = {name: _bedrock_actions(st) for name, st in _statements(s).items()}
    assert {name for name, actions in granted.items() if actions} == {"paddock-dev-worker-bedrock"}


def test_the_worker_gets_the_model_and_no_key(stack: Any) -> None:
    s = stack("aws", secret=None, **BEDROCK)
    env = _env(s)
    worker, http = env["paddock-dev-worker"], env["paddock-dev-http"]
    assert worker["BEDROCK_MODEL_ID"] == PROFILE and worker["PADDOCK_LLM"] == "bedrock"
    assert "BEDROCK_MODEL_ID" not in http
    assert not {k for k in worker if k.endswith("_API_KEY")}


def test_no_bedrock_grant_for_other_planners(stack: Any) -> None:
    s = stack("aws", llm="openai")
    assert not s.of_type("aws:iam/rolePolicy:RolePolicy") or not any(
        _bedrock_actions(st) for st in _statements(s).values()
    )
    assert "BEDROCK_MODEL_ID" not in _env(s)["paddock-dev-worker"]


def test_anthropic_key_is_a_secret_under_its_own_name(stack: Any) -> None:
    s = stack("aws", llm="anthropic")
    worker = s.one("aws:lambda/function:Function", "worker")
    assert worker.plain("environment")["variables"]["ANTHROPIC_API_KEY"] == SECRET
    assert "OPENAI_API_KEY" not in worker.plain("environment")["variables"]


@pytest.mark.parametrize(
    ("values", "arns"),
    [
        (
            {"llm": "bedrock", "bedrockModelId": "amazon.nova-lite-v1:0"},
            ["arn:aws:bedrock:eu-west-1::foundation-model/amazon.nova-lite-v1:0"],
        ),
        (
            {
                "llm": "bedrock",
                "bedrockModelId": APP_PROFILE,
                "bedrockModelArns": [
                    APP_PROFILE,
                    "arn:aws:bedrock:eu-west-1::foundation-model/amazon.nova-lite-v1:0",
                ],
            },
            [APP_PROFILE, "arn:aws:bedrock:eu-west-1::foundation-model/amazon.nova-lite-v1:0"],
        ),
    ],
)
def test_model_arns(values: dict[str, Any], arns: list[str]) -> None:
    from paddock_infra.bedrock import model_arns

    cfg = load(awsRegion="eu-west-1", **values)
    got = model_arns(cfg.bedrock, partition="aws", region="eu-west-1", account_id=ACCOUNT)
    assert got == arns


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"llm": "bedrock"}, "paddock:llm bedrock needs paddock:bedrockModelId"),
        ({"llm": "bedrock", "bedrockModelId": PROFILE}, "list its regions in"),
        (
            {"llm": "bedrock", "bedrockModelId": f"arn:aws:bedrock:us-east-1:{ACCOUNT}:x/y"},
            "list what it may invoke in paddock:bedrockModelArns",
        ),
        ({**BEDROCK, "bedrockModelRegions": ["moon-1"]}, "paddock:bedrockModelRegions"),
        ({**BEDROCK, "bedrockModelArns": ["*"]}, "paddock:bedrockModelArns"),
        ({**BEDROCK, "bedrockModelId": "anthropic.*"}, "paddock:bedrockModelId"),
    ],
)
def test_bad_bedrock_settings_are_one_line_naming_the_key(
    values: dict[str, Any], message: str
) -> None:
    from paddock_infra.config import InfraConfigError

    with pytest.raises(InfraConfigError) as caught:
        load(**values)
    assert message in str(caught.value) and "\n" not in str(caught.value)
