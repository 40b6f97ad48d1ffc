"""One trace across queue hops and clouds: AWS worker -> queue -> Azure worker, in memory and
on the emulators (SQS on moto, Azure Storage queue on Azurite); an API caller's traceparent."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from core.api.worker import Outcome, QueueHandoff, process_envelope
from core.domain import Location, Plan, Run, RunStatus, Usage
from core.execution.http import HttpExecutor
from core.guardrails.base import PassThroughGuard
from core.orchestrator.engine import Orchestrator
from core.queue.base import Envelope, TaskQueue
from core.queue.memory import MemoryQueue
from core.state.memory import MemoryStore
from core.telemetry.render import render
from paddock.local.servers import LocalServer
from paddock.testing.planner import ScriptedPlanner
from tests.api.world import World
from tests.orchestrator.service import ToolList
from tests.telemetry.support import (
    EchoService,
    Recorder,
    call,
    echo_tools,
    named,
    parent_of,
    walk_up,
)

SCRIPT = [
    Plan(reasoning="read stock on AWS", calls=[call("get_stock", item="A-1")]),
    Plan(reasoning="write the note on Azure", calls=[call("save_note", body={"text": "low"})]),
    Plan(reasoning="done", final_answer="noted"),
]


@pytest.fixture()
def echo() -> Iterator[tuple[EchoService, str]]:
    service = EchoService()
    with LocalServer(service.app, name="echo") as server:
        yield service, server.url


class Mesh:
    """One store, one queue per cloud, one orchestrator and one span recorder per cloud."""

    def __init__(self, url: str, queues: dict[str, TaskQueue]) -> None:
        self.store = MemoryStore()
        self.queues = queues
        self.recorders = {cloud: Recorder(cloud) for cloud in ("aws", "azure")}
        catalog = ToolList(echo_tools(url, note_cloud=Location.AZURE))
        planner = ScriptedPlanner(list(SCRIPT))
        self.orchestrators = {
            cloud: Orchestrator(
                store=self.store,
                catalogs=lambda run: catalog,
                planners=lambda run: planner,
                guard=PassThroughGuard(),
                executor=HttpExecutor(),
                cloud=cloud,
                handoff=QueueHandoff(queues, sender=cloud),
                tracing=self.recorders[cloud].tracer(),
            )
            for cloud in ("aws", "azure")
        }

    def start(self) -> Run:
        run = self.orchestrators["aws"].create(Run(id="run_hop", goal="note low stock"))
        self.queues["aws"].send(
            Envelope(
                run_id=run.id,
                expected_version=run.version,
                target="aws",
                traceparent=run.traceparent,
            )
        )
        return run

    def work(self, cloud: str) -> Any:
        [message] = self.queues[cloud].receive(10)
        outcome = process_envelope(message.envelope, self.orchestrators[cloud], self.queues)
        self.queues[cloud].ack(message)
        return outcome

    def spans(self) -> list[dict[str, Any]]:
        return self.recorders["aws"].spans() + self.recorders["azure"].spans()


def assert_one_trace_across_the_hop(mesh: Mesh, service: EchoService) -> None:
    run = mesh.start()
    assert mesh.work("aws").outcome is Outcome.HANDED_OFF
    assert mesh.work("azure").outcome is Outcome.FINISHED
    assert mesh.store.get_run(run.id).status is RunStatus.SUCCEEDED
    aws, azure = mesh.recorders["aws"].spans(), mesh.recorders["azure"].spans()
    spans = aws + azure
    trace_id = run.traceparent.split("-")[1]  # type: ignore[union-attr]
    assert {s["trace_id"] for s in spans} == {trace_id}
    assert {s["resource"]["paddock.cloud"] for s in aws} == {"aws"}
    assert {s["resource"]["paddock.cloud"] for s in azure} == {"azure"}

    # AWS: the root, its consumer span, the read; the step that handed off says so.
    [root] = named(aws, "run")
    assert root["parent_id"] is None
    [handed] = [s for s in aws if any(e["name"] == "paddock.handoff" for e in s["events"])]
    assert handed["name"] == "step"
    assert [s["name"] for s in walk_up(handed, spans)][-3:] == ["advance", "process advance", "run"]
    # Azure: its consumer span is a child of the AWS step that sent the message.
    [consumer] = named(azure, "process advance")
    assert consumer["parent_id"] == handed["span_id"]
    assert consumer["attributes"]["paddock.envelope.sender"] == "aws"
    [advance] = named(azure, "advance")
    assert advance["parent_id"] == consumer["span_id"]
    [write] = named(azure, "POST save_note")
    assert [s["name"] for s in walk_up(write, spans)][-1] == "run"
    assert named(aws, "POST save_note") == []
    # The service saw one trace too, and the write under the Azure tool span.
    assert {r["headers"]["traceparent"].split("-")[1] for r in service.requests} == {trace_id}
    assert service.requests[-1]["headers"]["traceparent"].split("-")[2] == write["span_id"]

    text = render(spans)
    assert "queue aws -> azure" in text
    assert "handed off to azure" in text
    assert text.splitlines()[0].startswith("run")
    assert "clouds: aws, azure" in text.splitlines()[-1]


def test_one_trace_across_the_aws_to_azure_handoff_in_memory(echo: tuple[EchoService, str]) -> None:
    service, url = echo
    assert_one_trace_across_the_hop(
        Mesh(url, {"aws": MemoryQueue(), "azure": MemoryQueue()}), service
    )


@pytest.mark.emulators
def test_one_trace_across_sqs_and_azure_storage_queues(
    echo: tuple[EchoService, str], aws_client: Callable[[str], Any], azurite_connection_string: str
) -> None:
    from core.queue.azure import AzureStorageQueue, azure_queue_client
    from core.queue.sqs import SqsQueue, create_sqs_queue

    service, url = echo
    name = f"trace-{uuid.uuid4().hex[:8]}"
    sqs = aws_client("sqs")
    sqs_queue = SqsQueue(sqs, create_sqs_queue(sqs, name).queue_url)
    azure_queue = AzureStorageQueue(
        azure_queue_client(name, connection_string=azurite_connection_string)
    )
    azure_queue.create_queues()
    assert_one_trace_across_the_hop(Mesh(url, {"aws": sqs_queue, "azure": azure_queue}), service)


def test_an_api_callers_traceparent_becomes_the_runs_parent(world: World) -> None:
    recorder = Recorder()
    world.deps.orchestrator.tracing = recorder.tracer()
    world.script = [
        Plan(
            reasoning="look",
            model="gpt-4o-mini",
            calls=[call("get_item", item="A-1")],
            usage=Usage(prompt_tokens=100, completion_tokens=20, cost_usd=0.000027),
        ),
        Plan(
            reasoning="done",
            final_answer="in stock",
            model="gpt-4o-mini",
            usage=Usage(prompt_tokens=150, completion_tokens=5, cost_usd=0.0000255),
        ),
    ]
    caller_trace, caller_span = uuid.uuid4().hex, uuid.uuid4().hex[:16]
    response = world.request(
        "POST",
        "/runs",
        body={"goal": "is A-1 in stock?", "catalog": [f"{world.url}/openapi.json"]},
        headers={"traceparent": f"00-{caller_trace}-{caller_span}-01"},
    )
    assert response.status == 202, response.body
    run_id = response.json()["run_id"]
    world.drain()
    spans = recorder.spans()
    [root] = named(spans, "run")
    assert (root["trace_id"], root["parent_id"]) == (caller_trace, caller_span)
    assert {s["trace_id"] for s in spans} == {caller_trace}
    [consumer] = named(spans, "process advance")
    assert parent_of(consumer, spans) == root

    view = world.request("GET", f"/runs/{run_id}").json()
    steps = [s["usage"] for s in view["steps"]]
    assert view["status"] == "succeeded"
    assert view["usage"]["prompt_tokens"] == sum(u["prompt_tokens"] for u in steps) == 250
    assert view["usage"]["completion_tokens"] == sum(u["completion_tokens"] for u in steps)
    assert view["usage"]["cost_usd"] == pytest.approx(sum(u["cost_usd"] for u in steps))
    assert sum(s["attributes"]["paddock.cost_usd"] for s in named(spans, "plan")) == pytest.approx(
        view["usage"]["cost_usd"]
    )


def test_a_malformed_caller_traceparent_starts_a_fresh_trace(world: World) -> None:
    recorder = Recorder()
    world.deps.orchestrator.tracing = recorder.tracer()
    response = world.request(
        "POST",
        "/runs",
        body={"goal": "is A-1 in stock?", "catalog": [f"{world.url}/openapi.json"]},
        headers={"traceparent": "00-not-a-trace-01"},
    )
    assert response.status == 202
    [root] = named(recorder.spans(), "run")
    assert root["parent_id"] is None


def test_a_caller_cannot_switch_off_the_runs_trace_with_an_unsampled_parent(world: World) -> None:
    """An attack on the audit trail: traceparent flags 00 ask every span below not to record."""
    recorder = Recorder()
    world.deps.orchestrator.tracing = recorder.tracer()
    world.script = [
        Plan(reasoning="look", calls=[call("get_item", item="A-1")]),
        Plan(reasoning="done", final_answer="in stock"),
    ]
    caller_trace = uuid.uuid4().hex
    response = world.request(
        "POST",
        "/runs",
        body={"goal": "is A-1 in stock?", "catalog": [f"{world.url}/openapi.json"]},
        headers={"traceparent": f"00-{caller_trace}-{uuid.uuid4().hex[:16]}-00"},
    )
    assert response.status == 202
    world.drain()
    spans = recorder.spans()
    assert {s["trace_id"] for s in spans} == {caller_trace}
    assert {"run", "process advance", "advance", "step", "plan", "guard", "GET get_item"} <= {
        s["name"] for s in spans
    }
