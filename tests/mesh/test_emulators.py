"""Delegation across clouds on the emulators: the parent's store is DynamoDB (moto), the AWS
worker reads SQS and the Azure worker an Azure Storage queue (Azurite). The Logistics Planning
parent runs on AWS; its Contracts child runs on Azure; calls hop between the clouds' queues."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from core.api.worker import QueueHandoff
from core.domain import RunStatus
from core.mesh import walk
from core.queue import AzureStorageQueue, SqsQueue, azure_queue_client, create_sqs_queue
from core.queue.base import TaskQueue
from core.queue.memory import MemoryQueue
from core.state.base import RunStore
from examples.shipment_delay import data
from paddock.local.mesh import LocalMesh
from tests.mesh.world import MeshWorld, approve_all

pytestmark = pytest.mark.emulators


def _queues(aws_client: Callable[[str], Any], conn: str) -> dict[str, TaskQueue]:
    sqs = aws_client("sqs")
    urls = create_sqs_queue(sqs, f"mesh-{uuid.uuid4().hex[:8]}")
    azure = AzureStorageQueue(
        azure_queue_client(f"mesh-{uuid.uuid4().hex[:8]}", connection_string=conn)
    )
    azure.create_queues()
    return {
        "aws": SqsQueue(sqs, urls.queue_url, dlq_url=urls.dlq_url),
        "azure": azure,
        "local": MemoryQueue(),
    }


def test_parent_on_aws_delegates_to_a_child_on_azure(
    world: MeshWorld,
    dynamodb_store: RunStore,
    aws_client: Callable[[str], Any],
    azurite_connection_string: str,
) -> None:
    world.store = dynamodb_store
    world.queues = _queues(aws_client, azurite_connection_string)
    orchestrators = {
        cloud: world.orchestrator(cloud, handoff=QueueHandoff(world.queues, sender=cloud))
        for cloud in ("aws", "azure")
    }
    local = LocalMesh(orchestrators, world.queues)
    root = local.start(world.root(), cloud="aws")
    seen: list[tuple[str, str]] = []
    final = local.run_until_settled(root.id, decide=approve_all(seen))

    assert final.status is RunStatus.SUCCEEDED, final.reason
    request = world.services.tms.reroute_requests[0]
    assert (request["carrier_id"], request["clause"]) == (data.CHOSEN_CARRIER, data.CLAUSE_REROUTE)
    tree = {n.run.agent: n.run for n in walk(dynamodb_store, root.id)}
    contracts = tree["contracts"]
    assert contracts.parent_id == root.id
    searched = [c for s in contracts.steps for c in s.calls if c.tool == "search_contract_clauses"]
    assert searched and all(c.worker == "azure" for c in searched)
    reroute = [
        c for s in final.steps for c in s.calls if c.tool == "create_reroute_request" and c.executed
    ]
    assert [c.worker for c in reroute] == ["aws"]
    asks = {c.tool: c for s in final.steps for c in s.calls if c.tool == "ask_contracts"}
    assert asks["ask_contracts"].untrusted is True
    assert seen == [(root.id, "create_reroute_request")]
