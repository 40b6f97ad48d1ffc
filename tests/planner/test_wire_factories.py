"""The Bedrock and Anthropic planners built from settings as each ecosystem configures them,
and the behaviours only one wire has."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import ConfigError, PlannerError
from core.planner.anthropic_planner import from_settings as anthropic_from_settings
from core.planner.base import PlanContext
from core.planner.bedrock_planner import from_settings as bedrock_from_settings
from core.runtime import make_planner
from core.settings import ModelSettings
from paddock.testing.fake_anthropic import ScriptedAnthropic
from paddock.testing.fake_bedrock import ScriptedBedrock
from paddock.testing.fake_openai import ErrorReply, TextReply, ToolCall, ToolCallsReply
from tests.planner.wires import scripted

CALL = ToolCallsReply(
    [ToolCall("get_stock", {"part": "P-100", "plant": "DE01"})], usage=(1_000_000, 1_000_000)
)
PROFILE = "us.anthropic.claude-haiku-4-5-20251001-v1:0"


@pytest.fixture
def aws_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDFROMCHAIN")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def no_aws_keys(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", raising=False)
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", raising=False)


def test_bedrock_from_the_standard_variables(aws_keys: None, ctx: PlanContext) -> None:
    with ScriptedBedrock([CALL]) as server:
        settings = ModelSettings.from_env(
            {
                "PADDOCK_LLM": "bedrock",
                "BEDROCK_MODEL_ID": PROFILE,
                "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": server.endpoint_url,
            }
        )
        planner = make_planner("bedrock", settings, aws_region="eu-west-1")
        plan = planner.plan(ctx)
        request = server.requests[0]
    assert planner.label == f"bedrock:{PROFILE}"
    assert request.deployment == PROFILE and plan.calls[0].tool == "get_stock"
    assert server.access_key_ids == ["AKIDFROMCHAIN"]  # the standard chain's key signed it
    assert "/eu-west-1/bedrock/aws4_request" in request.headers["authorization"]
    assert plan.usage.cost_usd == pytest.approx(1.0 + 5.0)  # Claude Haiku 4.5's list price


def test_bedrock_without_a_model_is_one_line(aws_keys: None) -> None:
    with pytest.raises(ConfigError, match=r"^BEDROCK_MODEL_ID is not set: export it or pass"):
        bedrock_from_settings(ModelSettings.from_env({}), region="us-east-1")


def test_bedrock_without_a_region_is_one_line(no_aws_keys: None) -> None:
    settings = ModelSettings.from_env({"BEDROCK_MODEL_ID": PROFILE})
    with pytest.raises(ConfigError, match=r"^AWS_REGION is not set"):
        bedrock_from_settings(settings)


def test_bedrock_takes_boto3s_region_when_none_is_given(
    aws_keys: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-southeast-2")
    planner = bedrock_from_settings(ModelSettings.from_env({"BEDROCK_MODEL_ID": PROFILE}))
    assert planner._client.meta.region_name == "ap-southeast-2"


def test_bedrock_without_credentials_is_one_line(no_aws_keys: None) -> None:
    settings = ModelSettings.from_env({"BEDROCK_MODEL_ID": PROFILE})
    with pytest.raises(ConfigError, match=r"^no AWS credentials found for Bedrock"):
        bedrock_from_settings(settings, region="us-east-1")


def test_anthropic_from_the_standard_variables(ctx: PlanContext) -> None:
    with ScriptedAnthropic([CALL], api_key="sk-ant-test") as server:
        settings = ModelSettings.from_env(
            {
                "ANTHROPIC_API_KEY": "sk-ant-test",
                "ANTHROPIC_BASE_URL": server.base_url,
                "ANTHROPIC_MODEL": "claude-sonnet-4-5",
            }
        )
        planner = make_planner("anthropic", settings)
        plan = planner.plan(ctx)
        request = server.requests[0]
    assert planner.label == "anthropic:claude-sonnet-4-5"
    sent = request.headers.get("x-api-key") or request.headers.get("authorization", "")
    assert sent.endswith("sk-ant-test") and request.status == 200  # 401 for another key
    assert plan.usage.cost_usd == pytest.approx(3.0 + 15.0)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ANTHROPIC_MODEL": "claude-haiku-4-5"}, r"^ANTHROPIC_API_KEY is not set"),
        ({"ANTHROPIC_API_KEY": "k"}, r"^ANTHROPIC_MODEL is not set: export it or pass --model"),
    ],
)
def test_anthropic_without_key_or_model_is_one_line(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        anthropic_from_settings(ModelSettings.from_env(env))


@pytest.mark.parametrize(
    ("llm", "field"),
    [
        ("openai", "openai_model"),
        ("azure-openai", "azure_openai_deployment"),
        ("bedrock", "bedrock_model_id"),
        ("anthropic", "anthropic_model"),
    ],
)
def test_model_flag_sets_each_planners_model(llm: str, field: str) -> None:
    settings = ModelSettings.from_env({}).with_model(llm, " my-model ")
    assert getattr(settings, field) == "my-model"


def test_model_flag_does_not_apply_to_rules() -> None:
    with pytest.raises(ConfigError, match=r"^--model does not apply to --llm rules"):
        ModelSettings.from_env({}).with_model("rules", "x")


def test_bedrock_throttle_without_retry_after_is_deferred(ctx: PlanContext) -> None:
    """Bedrock's ThrottlingException carries no Retry-After: after the retries the run is
    deferred by ``throttle_delay``, not failed."""
    throttled = ErrorReply(429, message="Too many requests, please wait before trying again.")
    waits: list[float] = []
    with scripted("bedrock", [throttled] * 3) as (server, make):
        with pytest.raises(PlannerError) as caught:
            make(sleep=waits.append, throttle_delay=30.0).plan(ctx)
        assert [r.status for r in server.requests] == [429, 429, 429]
    assert caught.value.retryable and caught.value.retry_after == 30.0
    assert "ThrottlingException" in caught.value.message and len(waits) == 2


@pytest.mark.parametrize(
    ("kind", "stop"), [("bedrock", "guardrail_intervened"), ("anthropic", "refusal")]
)
def test_a_refusal_asks_a_human(kind: str, stop: str, ctx: PlanContext) -> None:
    with scripted(kind, [TextReply("I cannot help with that.", finish_reason=stop)]) as (_, make):
        plan = make().plan(ctx)
    assert plan.help_request is not None and plan.help_request.startswith("The model refused")
    assert plan.final_answer is None and plan.calls == []
