"""A throttled model defers the run, then the run recovers, on every model planner: the engine
sees the same ``PlannerError(retryable, retry_after)`` whatever the wire."""

from __future__ import annotations

import pytest

from core.domain import RunStatus
from core.orchestrator.outcome import Finished, Throttled
from core.state.memory import MemoryStore
from paddock.testing.fake_openai import ErrorReply, TextReply, ToolCall, ToolCallsReply
from tests.orchestrator.service import OrdersService
from tests.orchestrator.test_outcome import orchestrator, service, start
from tests.planner.wires import WIRES, scripted

__all__ = ["service"]  # the fixture, re-used

READ = ToolCallsReply([ToolCall("get_item", {"item": "A-1"})], content="Look it up.")


@pytest.mark.parametrize("kind", WIRES)
def test_a_throttled_model_defers_the_run_then_it_recovers(
    kind: str, service: tuple[object, str]
) -> None:
    _, url = service
    script = [ErrorReply(429, retry_after=45, message="slow down"), READ, TextReply("A-1: 7.")]
    with scripted(kind, script) as (server, make):
        store = MemoryStore()
        orch = orchestrator(store, url, make(max_retries=0))
        start(orch)
        out = orch.advance("run_out")
        assert isinstance(out, Throttled) and out.delay == 45 and "slow down" in out.reason
        assert out.run.status is RunStatus.RUNNING and out.run.steps == []
        assert store.get_run("run_out").planner_deferrals == 1
        again = orch.advance("run_out")
    assert isinstance(again, Finished) and again.run.status is RunStatus.SUCCEEDED
    assert again.run.result == "A-1: 7." and [c.tool for c in again.run.steps[0].calls] == [
        "get_item"
    ]
    assert [r.status for r in server.requests] == [429, 200, 200]


def test_bedrock_throttle_without_retry_after_defers_by_the_planners_delay(
    service: tuple[object, str],
) -> None:
    _, url = service
    with scripted("bedrock", [ErrorReply(429), READ, TextReply("done")]) as (_, make):
        orch = orchestrator(MemoryStore(), url, make(max_retries=0, throttle_delay=12.0))
        start(orch)
        out = orch.advance("run_out")
        assert isinstance(out, Throttled) and out.delay == 12.0
        assert "ThrottlingException" in out.reason
        assert isinstance(orch.advance("run_out"), Finished)


def test_a_model_that_never_calls_a_tool_fails_the_run_with_a_clear_reason(
    service: tuple[OrdersService, str],
) -> None:
    svc, url = service
    with scripted("openai", [TextReply("Ordered 5 of A-1.")] * 3) as (_, make):
        orch = orchestrator(MemoryStore(), url, make())
        start(orch)
        out = orch.advance("run_out")
    assert isinstance(out, Finished) and out.run.status is RunStatus.FAILED
    assert "answered without calling any tool" in (out.run.error or out.run.reason or "")
    assert svc.requests == []
