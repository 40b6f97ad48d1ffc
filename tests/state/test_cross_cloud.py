"""The supply-chain run starts on AWS and finishes on Azure, and its state follows it.

Two worker loops, each with its own cloud's store and queue: the AWS worker on the moto server
(DynamoDB + SQS), the Azure worker on Azurite (Table + Storage Queue). The ERP calls (``azure``)
run on the Azure worker, the supplier portal's (``aws``) on the AWS worker; the risk service
(``external``) runs wherever the run is. The final state must match an in-memory run of the
same rule script, and every call must reach its service exactly once.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.api.worker import Outcome, QueueHandoff, process_envelope
from core.domain import Budget, Run, RunStatus
from core.errors import BackendError, PaddockError
from core.identity.setup import Identity
from core.orchestrator.engine import Orchestrator
from core.queue.azure import AzureStorageQueue, azure_queue_client
from core.queue.base import Envelope, TaskQueue
from core.queue.sqs import SqsQueue, create_sqs_queue
from core.runtime import build_orchestrator
from core.state.base import RunStore
from core.state.memory import MemoryStore
from examples import example_workflows, get_example, rule_scripts
from examples.supply_chain import SupplyChainServices
from examples.supply_chain.identity import local_verifiers
from paddock.cli.common import drive
from paddock.local.identity import local_identity_bundle

pytestmark = pytest.mark.emulators

FIXED = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

EXAMPLES = {"workflows": example_workflows(), "rule_scripts": rule_scripts()}
"""The example workflows and their rule scripts, as the CLI and the dev server pass them."""


@pytest.fixture(scope="module")
def live() -> Iterator[tuple[SupplyChainServices, Identity]]:
    identity, local = local_identity_bundle()
    with SupplyChainServices(verify_auth=local_verifiers(local), clock=lambda: FIXED) as svc:
        yield svc, identity


def new_run(services: SupplyChainServices, run_id: str) -> Run:
    scenario = get_example("supply-chain")
    return Run(
        id=run_id,
        goal=scenario.goal,
        scenario=scenario.name,
        catalog=[str(p) for p in scenario.spec_paths()],
        base_urls=dict(services.base_urls),
        grant=scenario.grant,
        requested_by="alice",
        budget=Budget(),
    )


def fingerprint(run: Run) -> list[Any]:
    """What a run did, without clocks, versions and which worker did it."""
    return [
        (
            s.index,
            s.reasoning,
            s.final_answer,
            [
                (
                    c.tool,
                    c.args,
                    c.status.value,
                    c.status_code,
                    c.result,
                    c.executed,
                    c.decision.verdict.value if c.decision else None,
                    c.decision.rule_ids if c.decision else None,
                )
                for c in s.calls
            ],
        )
        for s in run.steps
    ]


def requests(services: SupplyChainServices) -> list[tuple[str, str, str]]:
    return sorted(
        (key, r.method, r.path) for key, svc in services.services.items() for r in svc.requests
    )


def reset(services: SupplyChainServices) -> None:
    for svc in services.services.values():
        svc.reset()


class WorkerLoop(threading.Thread):
    """One cloud's queue trigger: receive, process, acknowledge; decisions by ``on_pause``."""

    def __init__(
        self,
        orch: Orchestrator,
        queue: TaskQueue,
        queues: dict[str, TaskQueue],
        on_pause: Callable[[Orchestrator, str, TaskQueue], None],
    ) -> None:
        super().__init__(daemon=True, name=f"worker-{orch.cloud}")
        self.orch, self.queue, self.queues, self.on_pause = orch, queue, queues, on_pause
        self.outcomes: list[Outcome] = []
        self.errors: list[str] = []
        self.stop = threading.Event()
        self.failure: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                for message in self.queue.receive(max_messages=1, visibility_timeout=30):
                    try:
                        done = process_envelope(message.envelope, self.orch, self.queues)
                    except PaddockError as exc:  # as a queue trigger: the message comes back
                        self.errors.append(str(exc))
                        self.queue.release(message)
                        continue
                    self.outcomes.append(done.outcome)
                    self.queue.ack(message)
                    if done.outcome is Outcome.PAUSED:
                        self.on_pause(self.orch, done.run_id, self.queue)
                time.sleep(0.05)
        except BaseException as exc:  # surfaced by the test
            self.failure = exc


class CrashOnce:
    """A queue whose first ``send`` fails, as if the worker died after copying the run into
    the other cloud's store and before announcing it."""

    def __init__(self, inner: TaskQueue) -> None:
        self.inner = inner
        self.crashed = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def send(self, envelope: Envelope, delay_seconds: int = 0) -> str:
        if not self.crashed:
            self.crashed = True
            raise BackendError("worker died before the handoff message was sent")
        return self.inner.send(envelope, delay_seconds)


@pytest.fixture()
def clouds(
    aws_client: Callable[[str], Any],
    azurite_connection_string: str,
    dynamodb_store: RunStore,
    table_store: RunStore,
) -> dict[str, Any]:
    suffix = uuid.uuid4().hex[:8]
    sqs = aws_client("sqs")
    sqs_queue = SqsQueue(sqs, create_sqs_queue(sqs, f"work-{suffix}").queue_url)
    az_queue = AzureStorageQueue(
        azure_queue_client(f"work-{suffix}", connection_string=azurite_connection_string)
    )
    az_queue.create_queues()
    return {
        "stores": {"aws": dynamodb_store, "azure": table_store},
        "queues": {"aws": sqs_queue, "azure": az_queue},
    }


def _approve(orch: Orchestrator, run_id: str, queue: TaskQueue) -> None:
    """Bob clicks OK; the approval endpoint puts the run back on this cloud's queue."""
    run = orch.store.get_run(run_id)
    for approval in run.pending_approvals:
        run = orch.decide(run_id, approval.id, approver="bob", approve=True)
    queue.send(
        Envelope.model_validate(
            {
                "run_id": run_id,
                "expected_version": run.version,
                "target": orch.cloud,
                "sender": orch.cloud,
            }
        )
    )


@pytest.mark.parametrize("crash", [False, True], ids=["clean", "crash_mid_handoff"])
def test_run_starts_on_aws_runs_erp_calls_on_azure_and_finishes_there(
    live: tuple[SupplyChainServices, Identity], clouds: dict[str, Any], crash: bool
) -> None:
    services, identity = live
    # The reference: the same rule script, one local worker, an in-memory store.
    reset(services)
    local = build_orchestrator(store=MemoryStore(), identity=identity, **EXAMPLES)
    reference = drive(
        local,
        local.create(new_run(services, "run_reference")),
        approve="auto",
        console=None,
        approver="bob",
    )
    assert reference.status is RunStatus.SUCCEEDED
    expected_requests = requests(services)

    reset(services)
    stores, queues = clouds["stores"], dict(clouds["queues"])
    if crash:  # the AWS worker's first handoff to Azure dies between copy and send
        queues["azure"] = CrashOnce(queues["azure"])
    workers = {}
    for cloud in ("aws", "azure"):
        other = "azure" if cloud == "aws" else "aws"
        handoff = QueueHandoff(
            queues, sender=cloud, home=stores[cloud], stores={other: stores[other]}
        )
        orch = build_orchestrator(
            store=stores[cloud], cloud=cloud, handoff=handoff, identity=identity, **EXAMPLES
        )
        orch.claim_lease = timedelta(seconds=2)  # how soon a stalled run is taken over
        workers[cloud] = WorkerLoop(orch, clouds["queues"][cloud], queues, _approve)
    run_id = "run_" + uuid.uuid4().hex[:12]
    created = workers["aws"].orch.create(new_run(services, run_id))
    queues["aws"].send(
        Envelope.model_validate(
            {
                "run_id": run_id,
                "expected_version": created.version,
                "target": "aws",
                "sender": "aws",
            }
        )
    )
    for worker in workers.values():
        worker.start()
    deadline = time.monotonic() + 180
    final: Run | None = None
    while time.monotonic() < deadline:
        head = (
            stores["azure"].get_run(run_id, with_steps=False)
            if _exists(stores["azure"], run_id)
            else None
        )
        if head is not None and head.status.finished:
            final = stores["azure"].get_run(run_id)
            break
        time.sleep(0.2)
    for worker in workers.values():
        worker.stop.set()
    for worker in workers.values():
        worker.join(timeout=30)
        assert worker.failure is None, repr(worker.failure)
    assert final is not None, "the run did not finish on Azure in time"

    assert final.status is RunStatus.SUCCEEDED and final.owner == "azure"
    assert fingerprint(final) == fingerprint(reference)
    assert final.result == reference.result
    assert requests(services) == expected_requests  # every call exactly once
    executed = [c for s in final.steps for c in s.calls if c.executed]
    by_worker = {(c.cloud, c.worker) for c in executed}
    assert ("azure", "azure") in by_worker and ("aws", "aws") in by_worker
    assert all(c.worker == c.cloud for c in executed if c.cloud != "external")
    assert final.handoffs >= 2
    # the AWS copy is a forwarding record naming the cloud that holds the run now
    home = stores["aws"].get_run(run_id, with_steps=False)
    assert home.owner == "azure" and home.handoffs == final.handoffs
    assert Outcome.HANDED_OFF in workers["aws"].outcomes
    assert Outcome.FINISHED in workers["azure"].outcomes
    if crash:
        assert workers["aws"].errors == ["worker died before the handoff message was sent"]


def _exists(store: RunStore, run_id: str) -> bool:
    from core.errors import NotFoundError

    try:
        store.get_run(run_id, with_steps=False)
    except NotFoundError:
        return False
    return True
