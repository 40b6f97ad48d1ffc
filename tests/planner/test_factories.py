"""from_env / azure_from_env: configuration, and the AzureOpenAI wire path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from core.errors import ConfigError, PlannerError
from core.planner.base import PlanContext
from core.planner.openai_planner import azure_from_env, from_env
from core.planner.pricing import PRICE_TABLE_ENV
from paddock.testing.fake_openai import ScriptedOpenAI, TextReply, ToolCall, ToolCallsReply

Serve = Callable[..., ScriptedOpenAI]
CALL = ToolCallsReply(
    [ToolCall("get_stock", {"part": "P-100", "plant": "DE01"})], usage=(1_000_000, 1_000_000)
)


def test_from_env_reaches_the_configured_server(serve: Serve, ctx: PlanContext) -> None:
    server = serve([CALL], api_key="sk-local")
    planner = from_env(
        {
            "OPENAI_BASE_URL": server.base_url,
            "OPENAI_API_KEY": "sk-local",
            "OPENAI_MODEL": "gpt-4o-mini",
        }
    )
    plan = planner.plan(ctx)
    assert planner.label == "openai:gpt-4o-mini"
    assert plan.calls[0].tool == "get_stock"
    assert plan.usage.cost_usd == pytest.approx(0.75)
    assert server.requests[0].path == "/v1/chat/completions"
    assert server.requests[0].body["model"] == "gpt-4o-mini"


def test_from_env_defaults_the_model(serve: Serve, ctx: PlanContext) -> None:
    server = serve([CALL])
    planner = from_env({"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "k"})
    planner.plan(ctx)
    assert server.bodies[0]["model"] == "gpt-4o-mini"


def test_from_env_without_a_key_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"^OPENAI_API_KEY is not set"):
        from_env({"OPENAI_BASE_URL": "http://127.0.0.1:1/v1", "OPENAI_API_KEY": "  "})


def test_the_price_file_comes_from_the_same_environment(
    serve: Serve, ctx: PlanContext, tmp_path: Path
) -> None:
    prices = tmp_path / "prices.yaml"
    prices.write_text("house-model: {prompt: 2, completion: 0}\n")
    server = serve([CALL])
    planner = from_env(
        {
            "OPENAI_BASE_URL": server.base_url,
            "OPENAI_API_KEY": "k",
            "OPENAI_MODEL": "house-model",
            PRICE_TABLE_ENV: str(prices),
        }
    )
    assert planner.plan(ctx).usage.cost_usd == pytest.approx(2.0)
    with pytest.raises(ConfigError, match="cannot read the price table"):
        from_env({"OPENAI_API_KEY": "k", PRICE_TABLE_ENV: str(tmp_path / "missing.yaml")})


def test_azure_with_an_api_key(serve: Serve, ctx: PlanContext) -> None:
    server = serve([CALL], api_key="az-key")
    planner = azure_from_env(
        {
            "AZURE_OPENAI_ENDPOINT": server.azure_endpoint,
            "AZURE_OPENAI_DEPLOYMENT": "paddock-4o-mini",
            "AZURE_OPENAI_API_VERSION": "2024-10-21",
            "AZURE_OPENAI_API_KEY": "az-key",
            "AZURE_OPENAI_MODEL": "gpt-4o-mini",
        }
    )
    plan = planner.plan(ctx)
    assert planner.label == "azure-openai:paddock-4o-mini"
    assert plan.calls[0].tool == "get_stock"
    (request,) = server.requests
    assert request.path == "/openai/deployments/paddock-4o-mini/chat/completions"
    assert request.deployment == "paddock-4o-mini"
    assert request.query["api-version"] == "2024-10-21"
    assert request.headers["api-key"] == "az-key"
    # Served model name "paddock-4o-mini" is unknown, so the deployment's alias prices it.
    assert plan.usage.cost_usd == pytest.approx(0.75)


def test_azure_with_a_bearer_token_provider(serve: Serve, ctx: PlanContext) -> None:
    server = serve([CALL], api_key="entra-token")
    issued: list[str] = []

    def token() -> str:
        issued.append("entra-token")
        return "entra-token"

    planner = azure_from_env(
        {"AZURE_OPENAI_ENDPOINT": server.azure_endpoint, "AZURE_OPENAI_DEPLOYMENT": "dep"},
        token_provider=token,
    )
    assert planner.plan(ctx).calls[0].tool == "get_stock"
    assert issued and server.requests[0].headers["authorization"] == "Bearer entra-token"
    assert server.requests[0].query["api-version"] == "2024-10-21"


def test_azure_without_a_key_builds_with_no_network_call() -> None:
    planner = azure_from_env(
        {
            "AZURE_OPENAI_ENDPOINT": "https://example.openai.azure.com",
            "AZURE_OPENAI_DEPLOYMENT": "dep",
        }
    )
    assert planner.label == "azure-openai:dep"


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({}, "AZURE_OPENAI_ENDPOINT and AZURE_OPENAI_DEPLOYMENT not set"),
        (
            {"AZURE_OPENAI_ENDPOINT": "https://x.openai.azure.com"},
            "^AZURE_OPENAI_DEPLOYMENT not set",
        ),
    ],
)
def test_azure_missing_configuration(env: dict[str, str], missing: str) -> None:
    with pytest.raises(ConfigError, match=missing):
        azure_from_env(env)


def test_a_token_failure_surfaces_before_any_request(serve: Serve, ctx: PlanContext) -> None:
    server = serve([TextReply("never")])

    def no_token() -> str:
        raise PlannerError("cannot get an Entra ID token for Azure OpenAI: no identity")

    planner = azure_from_env(
        {"AZURE_OPENAI_ENDPOINT": server.azure_endpoint, "AZURE_OPENAI_DEPLOYMENT": "dep"},
        token_provider=no_token,
    )
    with pytest.raises(PlannerError, match="no identity"):
        planner.plan(ctx)
    assert server.requests == []
