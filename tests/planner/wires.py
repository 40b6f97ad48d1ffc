"""Every model planner on its real SDK client, pointed at a scripted server of its wire."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import boto3
from anthropic import Anthropic
from openai import OpenAI

from core.planner.anthropic_planner import AnthropicPlanner
from core.planner.base import Planner
from core.planner.bedrock_planner import BedrockPlanner, bedrock_client
from core.planner.openai_planner import OpenAIPlanner
from core.planner.pricing import Price, PriceTable
from paddock.testing.fake_anthropic import ScriptedAnthropic
from paddock.testing.fake_bedrock import ScriptedBedrock
from paddock.testing.fake_openai import ScriptedOpenAI, Turn

WIRES = ("openai", "bedrock", "anthropic")
MODELS = {
    "openai": "gpt-test",
    "bedrock": "us.anthropic.claude-test-20250101-v1:0",
    "anthropic": "claude-test-20250101",
}
"""The model each planner calls; all three are priced by the one entry of ``PRICES``."""
PRICES = PriceTable({"gpt-test": Price(1.0, 4.0), "claude-test": Price(1.0, 4.0)})

Factory = Callable[..., Planner]


def server_for(kind: str, script: Sequence[Turn] = (), **options: Any) -> ScriptedOpenAI:
    """A started scripted server that speaks ``kind``'s wire protocol."""
    cls = {"openai": ScriptedOpenAI, "bedrock": ScriptedBedrock, "anthropic": ScriptedAnthropic}
    return cls[kind](script, **options).start()


def planner_for(kind: str, server: ScriptedOpenAI, **options: Any) -> Planner:
    """The planner of ``kind`` on its real SDK client, talking to ``server``."""
    options.setdefault("price_table", PRICES)
    if kind == "openai":
        return OpenAIPlanner(
            OpenAI(base_url=server.base_url, api_key="test-key"), MODELS[kind], **options
        )
    if kind == "bedrock":
        session = boto3.session.Session(
            aws_access_key_id="AKIDSCRIPTED", aws_secret_access_key="secret"
        )
        client = bedrock_client(region="us-east-1", endpoint_url=server.url, session=session)
        return BedrockPlanner(client, MODELS[kind], **options)
    client = Anthropic(base_url=server.url, api_key="test-key")
    return AnthropicPlanner(client, MODELS[kind], **options)


@contextmanager
def scripted(
    kind: str, script: Sequence[Turn] = (), **server_options: Any
) -> Iterator[tuple[ScriptedOpenAI, Factory]]:
    """``(server, make)``: the server plays ``script``; ``make(**options)`` builds a planner."""
    server = server_for(kind, script, **server_options)
    try:
        yield server, lambda **options: planner_for(kind, server, **options)
    finally:
        server.stop()


def tool_names(kind: str, body: dict[str, Any]) -> set[str]:
    """The names of the tools a request offered, whatever its wire."""
    if kind == "openai":
        return {t["function"]["name"] for t in body["tools"]}
    if kind == "bedrock":
        return {t["toolSpec"]["name"] for t in body["toolConfig"]["tools"]}
    return {t["name"] for t in body["tools"]}


def results(kind: str, body: dict[str, Any]) -> list[str]:
    """The tool results the request shows the model, in order."""
    if kind == "openai":
        return [m["content"] for m in body["messages"] if m["role"] == "tool"]
    found = []
    for message in body["messages"]:
        for block in message["content"] if isinstance(message["content"], list) else []:
            if kind == "bedrock" and "toolResult" in block:
                found.append(block["toolResult"]["content"][0]["text"])
            if kind == "anthropic" and block.get("type") == "tool_result":
                found.append(block["content"])
    return found
