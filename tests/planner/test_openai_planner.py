"""OpenAIPlanner with the real ``openai`` client against a scripted server on 127.0.0.1."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from core.errors import PlannerError
from core.planner.base import PlanContext
from core.planner.pricing import Price, PriceTable
from paddock.local.servers import free_port
from paddock.testing.fake_openai import (
    ErrorReply,
    ScriptedOpenAI,
    TextReply,
    ToolCall,
    ToolCallsReply,
    malformed,
)
from tests.planner.conftest import STOCK, make_planner
from tests.planner.test_messages import history

Serve = Callable[..., ScriptedOpenAI]
STOCK_ARGS = {"part": "P-100", "plant": "DE01"}
GOOD = ToolCallsReply(
    [ToolCall("get_stock", STOCK_ARGS, id="call_ok")],
    content="First check the stock.\nconfidence: 0.9",
)


def tool_messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in body["messages"] if m["role"] == "tool"]


def test_single_tool_call(serve: Serve, ctx: PlanContext) -> None:
    server = serve([GOOD])
    plan = make_planner(server).plan(ctx)
    assert [(c.id, c.tool, c.args) for c in plan.calls] == [("call_ok", "get_stock", STOCK_ARGS)]
    assert plan.reasoning == "First check the stock."
    assert plan.confidence == 0.9
    assert plan.final_answer is None and plan.help_request is None
    (body,) = server.bodies
    assert body["model"] == "gpt-test" and body["temperature"] == 0
    sent = {t["function"]["name"]: t["function"] for t in body["tools"]}
    assert set(sent) == {
        "get_stock",
        "create_purchase_order",
        "read_messages",
        "request_human_help",
    }
    assert sent["get_stock"]["parameters"] == STOCK.args_schema


def test_parallel_calls_keep_their_order(serve: Serve, ctx: PlanContext) -> None:
    server = serve(
        [
            ToolCallsReply(
                [
                    ToolCall("get_stock", STOCK_ARGS, id="a"),
                    ToolCall("get_stock", {"part": "P-200", "plant": "US02"}, id="b"),
                    ToolCall("read_messages", {}, id="c"),
                ]
            )
        ]
    )
    plan = make_planner(server).plan(ctx)
    assert [(c.id, c.tool) for c in plan.calls] == [
        ("a", "get_stock"),
        ("b", "get_stock"),
        ("c", "read_messages"),
    ]
    assert plan.calls[1].args["part"] == "P-200"
    assert plan.confidence is None


def test_text_reply_is_the_final_answer(serve: Serve, ctx: PlanContext) -> None:
    server = serve(
        [TextReply("Ordered 500 units of P-100 from Acme (PO 4500012).\nConfidence: 85%")]
    )
    acted = replace(ctx, steps=history())  # a text answer is final once the run has acted
    plan = make_planner(server).plan(acted)
    assert plan.final_answer == "Ordered 500 units of P-100 from Acme (PO 4500012)."
    assert plan.calls == [] and plan.confidence == pytest.approx(0.85)


def test_help_tool_becomes_a_help_request(serve: Serve, ctx: PlanContext) -> None:
    server = serve(
        [
            ToolCallsReply(
                [
                    ToolCall("request_human_help", {"question": "Which plant is meant?"}),
                    ToolCall("get_stock", STOCK_ARGS),
                ],
                content="The plant is unclear.\nconfidence: 0.3",
            )
        ]
    )
    plan = make_planner(server).plan(ctx)
    assert plan.help_request == "Which plant is meant?"
    assert plan.calls == [] and plan.confidence == 0.3


def test_malformed_json_goes_back_to_the_model(serve: Serve, ctx: PlanContext) -> None:
    server = serve([ToolCallsReply([ToolCall("get_stock", '{"part": "P-100", ', id="bad")]), GOOD])
    plan = make_planner(server).plan(ctx)
    assert [c.args for c in plan.calls] == [STOCK_ARGS]
    first, second = server.bodies
    assert len(second["messages"]) == len(first["messages"]) + 2
    echoed, error = second["messages"][-2:]
    assert echoed["tool_calls"][0]["function"]["arguments"] == '{"part": "P-100", '
    assert error["tool_call_id"] == "bad"
    assert error["content"].startswith("ERROR: the arguments of get_stock are not valid JSON")


def test_unknown_tool_goes_back_to_the_model(serve: Serve, ctx: PlanContext) -> None:
    server = serve(
        [
            ToolCallsReply(
                [
                    ToolCall("delete_vendor", {"vendor_id": "V1"}, id="x"),
                    ToolCall("get_stock", STOCK_ARGS, id="y"),
                ]
            ),
            GOOD,
        ]
    )
    plan = make_planner(server).plan(ctx)
    assert [c.tool for c in plan.calls] == ["get_stock"]
    results = {m["tool_call_id"]: m["content"] for m in tool_messages(server.bodies[1])}
    assert "no tool named 'delete_vendor'" in results["x"]
    assert "create_purchase_order, get_stock, read_messages" in results["x"]
    assert results["y"].startswith("NOT RUN")


def test_schema_invalid_args_go_back_to_the_model(serve: Serve, ctx: PlanContext) -> None:
    bad = {"body": {"vendor_id": "V-7", "quantity": 0, "iban": "DE00"}}
    fixed = {"body": {"vendor_id": "V-7", "quantity": 500}}
    server = serve(
        [
            ToolCallsReply([ToolCall("create_purchase_order", bad, id="po")]),
            ToolCallsReply([ToolCall("create_purchase_order", fixed, id="po2")]),
        ]
    )
    plan = make_planner(server).plan(ctx)
    assert plan.calls[0].args == fixed
    (error,) = tool_messages(server.bodies[1])
    assert error["tool_call_id"] == "po"
    assert "invalid arguments for create_purchase_order" in error["content"]
    assert "args.body.quantity: expected >= 1, got 0" in error["content"]
    assert "args.body.iban: unexpected property; allowed: quantity, vendor_id" in error["content"]


def test_pattern_and_enum_violations_are_reported(serve: Serve, ctx: PlanContext) -> None:
    server = serve(
        [ToolCallsReply([ToolCall("get_stock", {"part": "../etc", "plant": "XX"})]), GOOD]
    )
    make_planner(server).plan(ctx)
    (error,) = tool_messages(server.bodies[1])
    assert (
        "args.part: expected a string matching the pattern '^P-[0-9]{3}$', got \"../etc\""
        in (error["content"])
    )
    assert 'args.plant: expected one of ["DE01", "US02"], got "XX"' in error["content"]


def test_invalid_args_after_the_retries_pass_to_the_guardrails(
    serve: Serve, ctx: PlanContext
) -> None:
    bad = {"part": "P-1"}
    server = serve([ToolCallsReply([ToolCall("get_stock", bad)])] * 3)
    plan = make_planner(server, max_retries_invalid=2).plan(ctx)
    assert len(server.requests) == 3 and server.remaining == 0
    assert [(c.tool, c.args) for c in plan.calls] == [("get_stock", bad)]


def test_unknown_tool_without_retries_passes_to_the_guardrails(
    serve: Serve, ctx: PlanContext
) -> None:
    server = serve([ToolCallsReply([ToolCall("delete_vendor", {"vendor_id": "V1"})])])
    plan = make_planner(server, max_retries_invalid=0).plan(ctx)
    assert len(server.requests) == 1
    assert [c.tool for c in plan.calls] == ["delete_vendor"]


def test_malformed_json_after_the_retries_raises(serve: Serve, ctx: PlanContext) -> None:
    server = serve([malformed("get_stock")] * 3 + [GOOD])
    with pytest.raises(PlannerError, match=r"kept writing invalid tool calls.*not valid JSON"):
        make_planner(server, max_retries_invalid=2).plan(ctx)
    assert len(server.requests) == 3 and server.remaining == 1


def test_empty_reply_is_asked_again(serve: Serve, ctx: PlanContext) -> None:
    server = serve([TextReply(""), GOOD])
    plan = make_planner(server).plan(ctx)
    assert plan.calls[0].tool == "get_stock"
    assert server.bodies[1]["messages"][-1]["content"].startswith("Your last reply was empty")


def test_429_with_retry_after_is_honoured(serve: Serve, ctx: PlanContext) -> None:
    server = serve([ErrorReply(429, retry_after=0.3, message="slow down"), GOOD])
    started = time.monotonic()
    plan = make_planner(server).plan(ctx)
    assert time.monotonic() - started >= 0.3
    assert [r.status for r in server.requests] == [429, 200]
    assert plan.calls[0].tool == "get_stock"


def test_retry_after_above_the_cap_fails_fast(serve: Serve, ctx: PlanContext) -> None:
    server = serve([ErrorReply(429, retry_after=90), GOOD])
    started = time.monotonic()
    with pytest.raises(PlannerError) as caught:
        make_planner(server, max_retry_wait=5).plan(ctx)
    assert time.monotonic() - started < 5
    assert caught.value.retryable and caught.value.retry_after == pytest.approx(90)
    assert "rate limiting" in caught.value.message and len(server.requests) == 1


def test_persistent_500_raises_a_retryable_error(serve: Serve, ctx: PlanContext) -> None:
    server = serve(default=ErrorReply(500, message="upstream exploded"))
    waits: list[float] = []
    with pytest.raises(PlannerError) as caught:
        make_planner(server, max_retries=2, sleep=waits.append).plan(ctx)
    assert len(server.requests) == 3
    assert len(waits) == 2 and waits[0] < waits[1] <= 8
    assert caught.value.retryable
    assert caught.value.message == (
        f"the model at {server.base_url} failed (HTTP 500: upstream exploded)"
    )


def test_503_then_success(serve: Serve, ctx: PlanContext) -> None:
    server = serve([ErrorReply(503, retry_after=0.05), GOOD])
    assert make_planner(server).plan(ctx).calls[0].id == "call_ok"
    assert [r.status for r in server.requests] == [503, 200]


def test_unreachable_server_is_one_clear_line(ctx: PlanContext) -> None:
    from openai import OpenAI

    from core.planner.openai_planner import OpenAIPlanner

    url = f"http://127.0.0.1:{free_port()}/v1"
    planner = OpenAIPlanner(
        OpenAI(base_url=url, api_key="k"), "gpt-test", max_retries=0, price_table=PriceTable({})
    )
    with pytest.raises(PlannerError) as caught:
        planner.plan(ctx)
    assert caught.value.message.startswith(f"cannot reach the model at {url}")
    assert "\n" not in caught.value.message and caught.value.retryable


def test_wrong_key_is_not_retried(serve: Serve, ctx: PlanContext) -> None:
    server = serve([GOOD], api_key="the-right-key")
    with pytest.raises(PlannerError, match="refused the credentials") as caught:
        make_planner(server).plan(ctx)
    assert not caught.value.retryable and len(server.requests) == 1


def test_usage_and_cost_sum_over_the_retries(serve: Serve, ctx: PlanContext) -> None:
    server = serve(
        [
            ToolCallsReply([ToolCall("nope", {})], usage=(1000, 200)),
            ToolCallsReply([ToolCall("get_stock", STOCK_ARGS)], usage=(2000, 100)),
        ]
    )
    plan = make_planner(server).plan(ctx)
    assert plan.usage.prompt_tokens == 3000 and plan.usage.completion_tokens == 300
    assert plan.usage.cost_usd == pytest.approx((3000 * 1.0 + 300 * 4.0) / 1e6)
    assert plan.model == "gpt-test"


def test_estimated_usage_grows_with_the_prompt(serve: Serve, ctx: PlanContext) -> None:
    server = serve([GOOD, GOOD])
    planner = make_planner(server)
    small = planner.plan(ctx).usage
    big_ctx = PlanContext(run_id="r", goal=ctx.goal + " " + "x" * 4000, tools=ctx.tools)
    big = planner.plan(big_ctx).usage
    assert 0 < small.prompt_tokens < big.prompt_tokens
    assert big.prompt_tokens - small.prompt_tokens >= 1000
    assert small.completion_tokens > 0


def test_unknown_model_costs_nothing_and_is_flagged(serve: Serve, ctx: PlanContext) -> None:
    server = serve([GOOD], model="mystery-model-1")
    table = PriceTable({"gpt-4o": Price(2.5, 10)})
    plan = make_planner(server, price_table=table).plan(ctx)
    assert plan.usage.prompt_tokens > 0 and plan.usage.cost_usd == 0.0
    assert table.unknown_models == {"gpt-test"}


def test_served_model_name_is_priced_when_known(serve: Serve, ctx: PlanContext) -> None:
    server = serve(
        [ToolCallsReply([ToolCall("get_stock", STOCK_ARGS)], usage=(1_000_000, 0))],
        model="gpt-4o-mini-2024-07-18",
    )
    plan = make_planner(server, price_table=PriceTable()).plan(ctx)
    assert plan.model == "gpt-4o-mini-2024-07-18"
    assert plan.usage.cost_usd == pytest.approx(0.15)


def test_tpm_limit_answers_429_and_the_planner_reports_it(serve: Serve, ctx: PlanContext) -> None:
    server = serve([GOOD, GOOD], tpm_limit=1000)
    planner = make_planner(server, max_retry_wait=2)
    planner.plan(ctx)
    with pytest.raises(PlannerError) as caught:
        planner.plan(ctx)
    assert caught.value.retryable and 50 < (caught.value.retry_after or 0) <= 60
    assert server.counters.throttled == 1 and server.remaining == 1


def test_tpm_window_frees_up_and_the_retry_succeeds(serve: Serve, ctx: PlanContext) -> None:
    server = serve([GOOD, GOOD], tpm_limit=1000, window_seconds=0.5)
    planner = make_planner(server, max_retry_wait=2)
    planner.plan(ctx)
    assert planner.plan(ctx).calls[0].tool == "get_stock"
    assert [r.status for r in server.requests] == [200, 429, 200]


def test_label_names_the_model(serve: Serve) -> None:
    assert make_planner(serve()).label == "openai:gpt-test"


def test_temperature_none_is_left_out(serve: Serve, ctx: PlanContext) -> None:
    server = serve([GOOD])
    make_planner(server, temperature=None, system_prompt="Be brief.").plan(ctx)
    body = server.bodies[0]
    assert "temperature" not in body
    assert body["messages"][0] == {"role": "system", "content": "Be brief."}
    assert json.loads(json.dumps(body))["messages"][1]["role"] == "user"
