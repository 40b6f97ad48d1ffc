"""Run events in the stacks: the EventBridge bus and the Event Grid topic exist, each worker
may publish to exactly that one, and it is told where with the variables the runtime reads."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pulumi.runtime import rpc

from core.settings import runtime_variables

from .harness import Synth, synth

HOOK = "https://erp.example.com/paddock-events"
HOOK_SECRET = "whsec-planted-0123456789abcdef"
SENDER = "d5a91429-5739-47e2-a06b-3470a27159e7"


def _env(s: Synth, part: str) -> dict[str, Any]:
    variables: dict[str, Any] = s.one("aws:lambda/function:Function", part).plain("environment")[
        "variables"
    ]
    return variables


def _statements(s: Synth) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for policy in s.of_type("aws:iam/rolePolicy:RolePolicy"):
        for stmt in json.loads(policy.plain("policy"))["Statement"]:
            found.append((policy.name, stmt))
    return found


def _app_settings(s: Synth) -> dict[str, Any]:
    app = s.one("azure-native:web:WebApp")
    return {p["name"]: p["value"] for p in app.plain("siteConfig")["appSettings"]}


def test_only_the_worker_may_put_events_and_only_on_the_stacks_bus(stack) -> None:
    s = stack("both")
    bus = s.one("aws:cloudwatch/eventBus:EventBus")
    grants = [(name, st) for name, st in _statements(s) if "events:" in json.dumps(st["Action"])]
    assert [(name, st["Action"], st["Resource"]) for name, st in grants] == [
        ("paddock-dev-worker-events-policy", "events:PutEvents", bus.outputs["arn"])
    ]
    policy = s.one("aws:iam/rolePolicy:RolePolicy", "worker-events")
    worker_role = s.one("aws:iam/role:Role", "worker-role")
    assert policy.plain("role") == worker_role.id


def test_the_aws_worker_is_told_the_bus_and_the_http_function_is_not(stack) -> None:
    s = stack("aws")
    bus = s.one("aws:cloudwatch/eventBus:EventBus")
    assert _env(s, "worker")["PADDOCK_EVENTS_EVENTBRIDGE_BUS"] == bus.outputs["name"]
    assert "PADDOCK_EVENTS_EVENTBRIDGE_BUS" not in _env(s, "http")
    assert s.outputs["awsEventBusName"] == bus.outputs["name"]


def test_the_topic_takes_cloudevents_and_entra_tokens_only(stack) -> None:
    topic = stack("azure").one("azure-native:eventgrid:Topic")
    assert topic.plain("inputSchema") == "CloudEventSchemaV1_0"
    assert topic.plain("disableLocalAuth") is True


def test_the_function_identity_may_send_to_the_topic_only(stack) -> None:
    s = stack("azure")
    topic = s.one("azure-native:eventgrid:Topic")
    principal = s.one("azure-native:web:WebApp").outputs["identity"]["principalId"]
    senders = [
        r
        for r in s.of_type("azure-native:authorization:RoleAssignment")
        if r.plain("roleDefinitionId").endswith(SENDER)
    ]
    assert [(r.plain("scope"), r.plain("principalId")) for r in senders] == [(topic.id, principal)]
    settings = _app_settings(s)
    assert settings["PADDOCK_EVENTS_EVENTGRID_ENDPOINT"] == topic.outputs["endpoint"]
    assert "PADDOCK_EVENTS_EVENTGRID_KEY" not in settings
    assert s.outputs["azureEventTopicEndpoint"] == topic.outputs["endpoint"]


@pytest.fixture(scope="module")
def hooked(lambda_package: Any) -> Synth:
    return synth(
        {"targets": "both", "eventWebhooks": [HOOK]},
        package=lambda_package,
        secrets={"eventWebhookSecret": HOOK_SECRET},
    )


def test_webhooks_reach_the_workers_with_the_secret_kept_secret(hooked: Synth) -> None:
    worker = hooked.one("aws:lambda/function:Function", "worker")
    assert rpc.is_rpc_secret(worker.inputs["environment"])
    env = _env(hooked, "worker")
    assert env["PADDOCK_EVENTS_WEBHOOKS"] == HOOK
    assert env["PADDOCK_EVENTS_WEBHOOK_SECRET"] == HOOK_SECRET
    assert "PADDOCK_EVENTS_WEBHOOK_SECRET" not in _env(hooked, "http")
    settings = _app_settings(hooked)
    assert settings["PADDOCK_EVENTS_WEBHOOKS"] == HOOK
    assert settings["PADDOCK_EVENTS_WEBHOOK_SECRET"].startswith("@Microsoft.KeyVault(SecretUri=")
    assert HOOK_SECRET not in json.dumps(settings)


def test_every_events_variable_the_infra_sets_is_one_the_runtime_reads(hooked: Synth) -> None:
    names = set(_env(hooked, "worker")) | set(_app_settings(hooked))
    events = {n for n in names if n.startswith("PADDOCK_EVENTS_")}
    assert events == {
        "PADDOCK_EVENTS_EVENTBRIDGE_BUS",
        "PADDOCK_EVENTS_EVENTGRID_ENDPOINT",
        "PADDOCK_EVENTS_WEBHOOKS",
        "PADDOCK_EVENTS_WEBHOOK_SECRET",
    }
    assert events <= runtime_variables()


def test_webhooks_without_a_secret_are_refused() -> None:
    from paddock_infra.config import InfraConfig, InfraConfigError

    with pytest.raises(InfraConfigError, match="eventWebhookSecret go together"):
        InfraConfig.from_settings(
            "dev",
            {
                "authIssuer": "https://login.example.com/",
                "authAudience": "api://paddock",
                "eventWebhooks": json.dumps([HOOK]),
            },
        )
