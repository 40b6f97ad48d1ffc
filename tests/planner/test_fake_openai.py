"""The scripted OpenAI-compatible server itself: wire format, recording, limits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from openai import OpenAI, RateLimitError

from paddock.testing.fake_openai import (
    ErrorReply,
    ScriptedOpenAI,
    TextReply,
    ToolCall,
    ToolCallsReply,
)

Serve = Callable[..., ScriptedOpenAI]
HELLO = [{"role": "user", "content": "hello"}]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def client(server: ScriptedOpenAI) -> OpenAI:
    return OpenAI(base_url=server.base_url, api_key="k", max_retries=0)


def test_tool_calls_parse_in_the_real_client(serve: Serve) -> None:
    server = serve(
        [
            ToolCallsReply(
                [ToolCall("a", {"x": 1}, id="c1"), ToolCall("b", "{bad")], content="thinking"
            )
        ]
    )
    reply = client(server).chat.completions.create(model="m", messages=HELLO)  # type: ignore[arg-type]
    message = reply.choices[0].message
    assert reply.choices[0].finish_reason == "tool_calls" and message.content == "thinking"
    calls = message.tool_calls or []
    assert [(c.id, c.function.name, c.function.arguments) for c in calls] == [  # type: ignore[union-attr]
        ("c1", "a", '{"x": 1}'),
        (calls[1].id, "b", "{bad"),
    ]
    assert calls[1].id and calls[1].id != "c1"


def test_records_requests_and_estimates_usage(serve: Serve) -> None:
    server = serve([TextReply("short"), TextReply("short")])
    openai = client(server)
    small = openai.chat.completions.create(model="m", messages=HELLO)  # type: ignore[arg-type]
    long = [{"role": "user", "content": "word " * 400}]
    big = openai.chat.completions.create(model="m", messages=long)  # type: ignore[arg-type]
    assert small.usage is not None and big.usage is not None
    assert big.usage.prompt_tokens - small.usage.prompt_tokens >= 400
    assert small.usage.completion_tokens == big.usage.completion_tokens == 2
    assert [r.body["messages"] for r in server.requests] == [HELLO, long]
    counters = server.counters
    assert (counters.requests, counters.completions) == (2, 2)
    assert counters.prompt_tokens == small.usage.prompt_tokens + big.usage.prompt_tokens


def test_callable_turn_sees_the_request(serve: Serve) -> None:
    def echo(body: dict[str, Any]) -> TextReply:
        return TextReply(
            f"{len(body['messages'])} messages, last: {body['messages'][-1]['content']}"
        )

    server = serve([echo])
    reply = client(server).chat.completions.create(model="m", messages=HELLO)  # type: ignore[arg-type]
    assert reply.choices[0].message.content == "1 messages, last: hello"


def test_exhausted_script_is_a_400(serve: Serve) -> None:
    server = serve([])
    response = httpx.post(
        server.base_url + "/chat/completions", json={"model": "m", "messages": HELLO}
    )
    assert response.status_code == 400
    assert "exhausted" in response.json()["error"]["message"]


def test_scripted_error_carries_retry_after(serve: Serve) -> None:
    server = serve([ErrorReply(503, retry_after=1.5, message="busy")])
    response = httpx.post(
        server.base_url + "/chat/completions", json={"model": "m", "messages": HELLO}
    )
    assert response.status_code == 503
    assert response.headers["retry-after"] == "2" and response.headers["retry-after-ms"] == "1500"
    assert response.json()["error"] == {
        "message": "busy",
        "type": "server_error",
        "param": None,
        "code": None,
    }


def test_bad_bodies_and_missing_api_version_are_refused(serve: Serve) -> None:
    server = serve([TextReply("never")])
    not_json = httpx.post(server.base_url + "/chat/completions", content=b"{nope")
    no_version = httpx.post(
        server.url + "/openai/deployments/d1/chat/completions", json={"messages": HELLO}
    )
    assert (not_json.status_code, no_version.status_code) == (400, 400)
    assert server.remaining == 1


def test_api_key_is_enforced(serve: Serve) -> None:
    server = serve([TextReply("ok")], api_key="secret")
    url = server.base_url + "/chat/completions"
    body = {"model": "m", "messages": HELLO}
    assert httpx.post(url, json=body).status_code == 401
    ok = httpx.post(url, json=body, headers={"Authorization": "Bearer secret"})
    assert ok.status_code == 200


def test_rpm_limit(serve: Serve) -> None:
    clock = Clock()
    server = serve([TextReply("1"), TextReply("2"), TextReply("3")], rpm_limit=2, clock=clock)
    openai = client(server)
    for _ in range(2):
        openai.chat.completions.create(model="m", messages=HELLO)  # type: ignore[arg-type]
        clock.now += 10
    with pytest.raises(RateLimitError) as caught:
        openai.chat.completions.create(model="m", messages=HELLO)  # type: ignore[arg-type]
    # The first request leaves the window 60 s after it was made, 20 s ago.
    assert caught.value.response.headers["retry-after-ms"] == "40000"
    clock.now += 40
    reply = openai.chat.completions.create(model="m", messages=HELLO)  # type: ignore[arg-type]
    assert reply.choices[0].message.content == "3"
    assert server.counters.throttled == 1 and server.counters.completions == 3


def test_tpm_limit_counts_prompt_and_completion_tokens(serve: Serve) -> None:
    clock = Clock()
    server = serve([TextReply("x" * 400)] * 3, tpm_limit=115, clock=clock)
    openai = client(server)
    first = openai.chat.completions.create(model="m", messages=HELLO)  # type: ignore[arg-type]
    assert first.usage is not None and first.usage.total_tokens > 100
    clock.now += 5
    with pytest.raises(RateLimitError) as caught:
        openai.chat.completions.create(model="m", messages=HELLO)  # type: ignore[arg-type]
    assert caught.value.response.headers["retry-after"] == "55"
    clock.now += 55
    openai.chat.completions.create(model="m", messages=HELLO)  # type: ignore[arg-type]
    too_big = [{"role": "user", "content": "y" * 4000}]
    with pytest.raises(RateLimitError, match="Request too large"):
        openai.chat.completions.create(model="m", messages=too_big)  # type: ignore[arg-type]
    assert server.counters.throttled == 2 and server.remaining == 1
