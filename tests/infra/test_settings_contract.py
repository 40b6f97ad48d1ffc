"""One source of settings truth: the runtime's settings built from exactly the environment each
Pulumi stack emits, for each process and each planner.

Fails on a variable the infra sets that nothing reads (neither ``core.settings`` nor a platform
or SDK named below), and on a variable the configuration requires
(``core.settings.required_variables``) that the infra never sets. The planner is then built
from those settings by the runtime's own factory, so the configured model and Azure deployment
are the ones it calls.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from core.planner.openai_planner import azure_from_settings, from_settings
from core.settings import Settings, required_variables, runtime_prefixes, runtime_variables

from .harness import Synth

READ_BY_OTHERS = {
    "POWERTOOLS_SERVICE_NAME": "Powertools for AWS Lambda",
    "POWERTOOLS_METRICS_NAMESPACE": "Powertools for AWS Lambda",
    "OTEL_SERVICE_NAME": "the OpenTelemetry SDK",
    "OTEL_EXPORTER_OTLP_HEADERS": "the OpenTelemetry OTLP exporter",
    "APPLICATIONINSIGHTS_AUTHENTICATION_STRING": "the Functions host, the Azure Monitor exporter",
    "AzureWebJobsStorage__accountName": "the Azure Functions host",
    "AzureWebJobsStorage__credential": "the Azure Functions host",
}
"""Variables the infra may set that Paddock never reads by name, and who reads them."""

KEY_VAULT_REFERENCE = "@Microsoft.KeyVault("
MODEL = "gpt-4.1-contract"
DEPLOYMENT = "paddock-gpt4o-prod"
API_VERSION = "2025-01-01-preview"
ENDPOINT = "https://contract.openai.azure.com/"

CONFIGS: dict[str, dict[str, Any]] = {
    "rules": {"llm": "rules"},
    "openai": {"llm": "openai", "llmModel": MODEL, "llmBaseUrl": "https://llm.example.com/v1"},
    "azure-openai": {
        "llm": "azure-openai",
        "llmModel": DEPLOYMENT,
        "azureOpenaiEndpoint": ENDPOINT,
        "azureOpenaiApiVersion": API_VERSION,
        "azureOpenaiModel": "gpt-4o",
    },
    "anthropic": {"llm": "anthropic", "llmModel": "claude-haiku-4-5"},
}


@dataclass(frozen=True)
class Process:
    """One deployed process: its name, cloud, whether it plans, and its environment."""

    name: str
    cloud: str
    plans: bool
    env: dict[str, Any]


def processes(s: Synth) -> list[Process]:
    found = [
        Process(
            fn.name,
            "aws",
            "worker" in fn.name,
            dict(fn.plain("environment")["variables"]),
        )
        for fn in s.of_type("aws:lambda/function:Function")
    ]
    for app in s.of_type("azure-native:web:WebApp"):
        env = {p["name"]: p["value"] for p in app.plain("siteConfig")["appSettings"]}
        found.append(Process(app.name, "azure", True, env))
    return found


def as_deployed(env: dict[str, Any]) -> dict[str, str]:
    """The environment the process sees: a Key Vault reference is resolved by the platform
    (a stand-in value here); every value the mocks resolved is a string."""
    seen: dict[str, str] = {}
    for name, value in env.items():
        assert isinstance(value, str), f"{name} did not resolve to a string: {value!r}"
        seen[name] = "resolved-secret" if value.startswith(KEY_VAULT_REFERENCE) else value
    return seen


def read_by_paddock(name: str) -> bool:
    return name in runtime_variables() or name.startswith(tuple(runtime_prefixes()))


@pytest.fixture(params=["aws", "azure", "both"])
def targets(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.mark.parametrize("llm", sorted(CONFIGS))
def test_every_variable_the_infra_sets_is_read_and_every_required_one_is_set(
    stack: Callable[..., Synth], targets: str, llm: str
) -> None:
    s = stack(targets, **CONFIGS[llm])
    seen = processes(s)
    assert {p.cloud for p in seen} == ({"aws", "azure"} if targets == "both" else {targets})
    for process in seen:
        env = as_deployed(process.env)
        unread = {n for n in env if not read_by_paddock(n) and n not in READ_BY_OTHERS}
        assert unread == set(), f"{process.name} sets variables nothing reads: {sorted(unread)}"
        settings = Settings.from_env(env)
        assert settings.cloud == process.cloud, process.name
        missing = [
            r.variables
            for r in required_variables(settings, plans=process.plans)
            if not r.met(set(env))
        ]
        assert missing == [], f"{process.name} lacks what its settings require: {missing}"


def test_the_configured_openai_model_is_the_one_the_planner_calls(
    stack: Callable[..., Synth],
) -> None:
    for process in processes(stack("both", **CONFIGS["openai"])):
        if not process.plans:
            continue
        settings = Settings.from_env(as_deployed(process.env))
        assert settings.model.llm == "openai"
        planner = from_settings(settings.model)
        assert planner.model == MODEL, process.name
        assert settings.model.openai_base_url == "https://llm.example.com/v1"


def test_the_configured_azure_deployment_is_the_one_the_planner_calls(
    stack: Callable[..., Synth],
) -> None:
    for process in processes(stack("both", **CONFIGS["azure-openai"])):
        if not process.plans:
            continue
        settings = Settings.from_env(as_deployed(process.env))
        model = settings.model
        assert (model.llm, model.azure_openai_endpoint) == ("azure-openai", ENDPOINT)
        assert model.azure_openai_api_version == API_VERSION
        planner = azure_from_settings(model, token_provider=lambda: "entra-token")
        assert planner.model == DEPLOYMENT, process.name
        priced = planner.prices.lookup(DEPLOYMENT)  # AZURE_OPENAI_MODEL prices the deployment
        assert priced is not None and priced == planner.prices.lookup("gpt-4o")


def test_a_process_missing_a_required_variable_is_caught() -> None:
    """The check itself can fail: a worker environment without the deployment."""
    env = {
        "PADDOCK_CLOUD": "aws",
        "PADDOCK_STORE": "dynamodb",
        "PADDOCK_LLM": "azure-openai",
        "AZURE_OPENAI_ENDPOINT": ENDPOINT,
    }
    missing = [
        r.variables for r in required_variables(Settings.from_env(env)) if not r.met(set(env))
    ]
    assert ("AZURE_OPENAI_DEPLOYMENT",) in missing and ("PADDOCK_SQS_QUEUE_URL",) in missing
    assert not read_by_paddock("PADDOCK_LLM_MODEL") and not read_by_paddock("OPENAI_API_VERSION")


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"llm": "azure-openai", "azureOpenaiEndpoint": ENDPOINT, "llmModel": None}, "llmModel"),
        ({"llm": "azure-openai", "llmModel": DEPLOYMENT}, "azureOpenaiEndpoint"),
        ({"llm": "openai", "llmModel": None}, "paddock:llmModel"),
    ],
)
def test_a_stack_the_runtime_could_not_plan_with_is_refused(
    config: dict[str, Any], message: str
) -> None:
    from paddock_infra.config import InfraConfigError

    from .test_config import load

    with pytest.raises(InfraConfigError, match=message):
        load(**config)
