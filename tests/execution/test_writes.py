"""Idempotency keys on writes, and retries only where they are safe."""

from __future__ import annotations

import json

from core.domain import ParamLocation, SideEffect
from core.execution import CallContext, HttpExecutor, idempotency_key

from .backend import BODY, Backend, Reply, make_tool, param


def test_post_carries_the_context_idempotency_key(
    executor: HttpExecutor, backend: Backend, base_url: str
) -> None:
    tool = make_tool(base_url, method="POST", path="/orders", params=(BODY,))
    ctx = CallContext(run_id="run-9", step_index=1, call_index=0, idempotency_key="key-abc")

    result = executor.execute(tool, {"body": {"part": "P-100", "qty": 500}}, ctx)

    assert result.ok
    [seen] = backend.seen
    assert seen.headers["idempotency-key"] == "key-abc"
    assert json.loads(seen.body) == {"part": "P-100", "qty": 500}


def test_a_write_without_a_context_key_derives_the_orchestrator_key(
    executor: HttpExecutor, backend: Backend, base_url: str
) -> None:
    tool = make_tool(
        base_url,
        method="DELETE",
        path="/vendors/{id}",
        params=(param("id", ParamLocation.PATH, required=True),),
        side_effect=SideEffect.DESTRUCTIVE,
    )
    ctx = CallContext(run_id="run-9", step_index=3, call_index=1)

    assert executor.execute(tool, {"id": "V-1"}, ctx).ok
    assert executor.execute(tool, {"id": "V-1"}, ctx).ok

    keys = [s.headers["idempotency-key"] for s in backend.seen]
    assert keys == [idempotency_key("run-9", 3, 1)] * 2
    assert idempotency_key("run-9", 3, 2) != keys[0]


def test_a_keyed_post_is_retried_with_the_same_key(
    executor: HttpExecutor, backend: Backend, base_url: str, ctx: CallContext
) -> None:
    backend.script(
        "/v1/orders",
        Reply(500, {"error": "db hiccup"}),
        Reply(502, None),
        Reply(201, {"order_id": "O-1"}),
    )
    tool = make_tool(base_url, method="POST", path="/orders", params=(BODY,))

    result = executor.execute(tool, {"body": {"qty": 1}}, ctx)

    assert result.status_code == 201
    assert result.body == {"order_id": "O-1"}
    assert result.attempts == 3
    keys = {s.headers["idempotency-key"] for s in backend.seen}
    assert len(backend.seen) == 3 and len(keys) == 1


def test_a_post_without_a_key_is_not_retried_on_500(
    executor: HttpExecutor, backend: Backend, base_url: str, ctx: CallContext
) -> None:
    # A POST the catalog marks as a read (a search), called without a key: not safe to repeat.
    backend.script("/v1/search", Reply(500, {"error": "boom"}), Reply(200, {"hits": []}))
    tool = make_tool(
        base_url, method="POST", path="/search", params=(BODY,), side_effect=SideEffect.READ
    )

    result = executor.execute(tool, {"body": {"q": "bolts"}}, ctx)

    assert result.status_code == 500
    assert result.attempts == 1
    assert result.retryable is False
    assert len(backend.seen) == 1
    assert "idempotency-key" not in backend.seen[0].headers


def test_get_is_retried_on_503_then_gives_up_retryable(
    backend: Backend, base_url: str, ctx: CallContext
) -> None:
    backend.script("/v1/things", Reply(503, {"error": "busy"}))
    waits: list[float] = []
    with HttpExecutor(max_attempts=4, backoff_base=0.05, sleep=waits.append) as executor:
        result = executor.execute(make_tool(base_url), {}, ctx)

    assert result.status_code == 503
    assert result.attempts == 4
    assert result.retryable is True
    assert result.retry_after is None
    assert len(backend.seen) == 4
    # exponential backoff, jittered to between half and all of 0.05, 0.1, 0.2
    assert len(waits) == 3
    for wait, ceiling in zip(waits, [0.05, 0.1, 0.2], strict=True):
        assert ceiling / 2 <= wait <= ceiling


def test_client_errors_are_not_retried(
    executor: HttpExecutor, backend: Backend, base_url: str, ctx: CallContext
) -> None:
    backend.script("/v1/things", Reply(404, {"error": "no such thing"}))
    result = executor.execute(make_tool(base_url), {}, ctx)

    assert result.status_code == 404 and not result.ok
    assert result.error is None
    assert result.body == {"error": "no such thing"}
    assert result.attempts == 1 and len(backend.seen) == 1
