"""``paddock demo`` on the Bedrock and Anthropic planners, and ``--model``, as a user runs them:
a real process whose planner uses the real SDK client (boto3, ``anthropic``) against a scripted
server of that wire on 127.0.0.1, configured only by the ecosystem's standard variables."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from examples.supply_chain import data as sc
from paddock.testing.fake_anthropic import ScriptedAnthropic
from paddock.testing.fake_bedrock import ScriptedBedrock
from paddock.testing.fake_openai import ScriptedOpenAI, TextReply, ToolCall, ToolCallsReply
from tests.cli.test_cli import assert_clean_error, last_json, paddock

QUOTE = {
    "supplier_id": sc.CHOSEN_SUPPLIER,
    "part": sc.PART,
    "quantity": sc.QUANTITY,
    "plant": sc.PLANT,
}
ORDER = {
    "part": sc.PART,
    "plant": sc.PLANT,
    "quantity": sc.QUANTITY,
    "vendor_id": sc.CHOSEN_SUPPLIER,
    "unit_price": sc.QUOTE_UNIT_PRICE,
    "currency": "EUR",
    "quote_id": "Q-100001",
}
DEMO = [
    ToolCallsReply(
        [ToolCall("get_stock", {"plant": sc.PLANT, "part": sc.PART})],
        content="Check the plant's stock first.\nconfidence: 0.9",
        usage=(900, 30),
    ),
    ToolCallsReply(
        [
            ToolCall("get_risk_score", {"supplier_id": sc.CHOSEN_SUPPLIER}),
            ToolCall("get_risk_score", {"supplier_id": sc.RISKY_SUPPLIER}),
        ],
        content="Rate both suppliers.\nconfidence: 0.8",
        usage=(1000, 40),
    ),
    ToolCallsReply([ToolCall("request_quote", {"body": QUOTE})], usage=(1100, 30)),
    ToolCallsReply([ToolCall("create_purchase_order", {"body": ORDER})], usage=(1200, 50)),
    TextReply(f"Ordered {sc.QUANTITY} x {sc.PART} from {sc.CHOSEN_SUPPLIER}.", usage=(1300, 20)),
]
AWS_CHAIN = {
    "AWS_ACCESS_KEY_ID": "AKIDDEMO",
    "AWS_SECRET_ACCESS_KEY": "demo-secret",
    "AWS_REGION": "eu-central-1",
}


@contextmanager
def model_server(kind: str) -> Iterator[tuple[ScriptedOpenAI, dict[str, str]]]:
    """A scripted server playing the demo, and the standard variables that reach it."""
    if kind == "bedrock":
        with ScriptedBedrock(DEMO) as bedrock:
            yield bedrock, {**AWS_CHAIN, "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": bedrock.endpoint_url}
        return
    with ScriptedAnthropic(DEMO, api_key="sk-ant-demo") as anthropic:
        yield anthropic, {"ANTHROPIC_API_KEY": "sk-ant-demo", "ANTHROPIC_BASE_URL": anthropic.url}


@pytest.mark.parametrize(
    ("kind", "model"),
    [
        ("bedrock", "eu.anthropic.claude-haiku-4-5-20251001-v1:0"),
        ("anthropic", "claude-haiku-4-5"),
    ],
)
def test_demo_runs_on_the_planner_with_the_model_flag(
    tmp_path: Path, kind: str, model: str
) -> None:
    with model_server(kind) as (server, env):
        proc = paddock(
            "demo",
            "--llm",
            kind,
            "--model",
            model,
            "--approve",
            "auto",
            "--json",
            home=tmp_path,
            env=env,
        )
        requests = list(server.requests)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = last_json(proc.stdout)
    assert out["status"] == "succeeded" and sc.CHOSEN_SUPPLIER in out["result"]
    assert out["planner"].startswith(f"{kind}:{model}")
    executed = [c for c in out["calls"] if c["executed"]]
    assert [c["tool"] for c in executed] == [
        "get_stock",
        "get_risk_score",
        "get_risk_score",
        "request_quote",
        "create_purchase_order",
    ]
    assert executed[-1]["status_code"] == 201 and executed[-1]["decision"] == "require_approval"
    assert out["usage"]["prompt_tokens"] == 5500 and out["usage"]["completion_tokens"] == 170
    assert out["usage"]["cost_usd"] == pytest.approx((5500 * 1.0 + 170 * 5.0) / 1e6)
    assert [r.status for r in requests] == [200] * 5
    if kind == "bedrock":
        assert {r.deployment for r in requests} == {model}
    else:
        assert {r.body["model"] for r in requests} == {model}


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--llm", "rules", "--model", "x"], {}, "--model does not apply to --llm rules"),
        (["--llm", "bedrock"], AWS_CHAIN, "BEDROCK_MODEL_ID is not set"),
        (["--llm", "anthropic", "--model", "claude-haiku-4-5"], {}, "ANTHROPIC_API_KEY is not"),
        (["--llm", "anthropic"], {"ANTHROPIC_API_KEY": "k"}, "ANTHROPIC_MODEL is not set"),
    ],
)
def test_a_missing_model_or_credential_is_one_line_and_exit_2(
    tmp_path: Path, args: list[str], env: dict[str, str], message: str
) -> None:
    proc = paddock("demo", *args, "--json", home=tmp_path, env={**env, "ANTHROPIC_MODEL": ""})
    line = assert_clean_error(proc)
    assert message in line, proc.stderr
