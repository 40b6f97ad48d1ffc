"""Both adapters on the emulators: a run started through the Lambda HTTP handler, advanced by the
SQS worker handler on moto, handed to the Azure queue on Azurite, finished by the Azure queue
trigger, and read back through an Azure HTTP function. State in DynamoDB (moto) for both."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from azure.functions.queue import QueueMessage
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from core.api import Deps, QueueHandoff, Worker
from core.domain import Plan, ProposedCall, Run
from core.entry import api_handler
from core.guardrails.base import PassThroughGuard
from core.orchestrator.engine import Orchestrator
from core.queue.azure import AzureStorageQueue, azure_queue_client
from core.queue.sqs import create_sqs_queue
from core.runtime import build_orchestrator
from core.settings import AuthSettings, LocalSettings, Settings, StorageSettings
from core.state.dynamodb import create_dynamodb_table
from functions.aws import http_handler, worker_handler
from functions.azure.function_app import make_app
from paddock.dev.bridges import AzureBridge
from paddock.dev.events import LambdaContext
from paddock.local.issuer import LocalIssuer
from paddock.local.servers import LocalServer
from paddock.testing.planner import ScriptedPlanner
from tests.functions.conftest import http_event
from tests.functions.orders_spec import ORDERS_SPEC
from tests.orchestrator.service import OrdersService

pytestmark = pytest.mark.emulators

SCRIPT = [
    Plan(
        reasoning="check stock", calls=[ProposedCall(id="", tool="get_item", args={"item": "A-1"})]
    ),
    Plan(
        reasoning="order",
        calls=[
            ProposedCall(id="", tool="create_order", args={"body": {"item": "A-1", "quantity": 5}})
        ],
    ),
    Plan(reasoning="done", final_answer="ordered"),
]


@pytest.fixture()
def orders_server() -> Iterator[tuple[OrdersService, str]]:
    service = OrdersService()

    async def spec(_: Request) -> JSONResponse:
        return JSONResponse(ORDERS_SPEC)

    app = Starlette(routes=[Route("/openapi.json", spec), Mount("/", service.app)])
    with LocalServer(app, name="orders+spec") as server:
        yield service, server.url


def _settings(
    cloud: str, moto: str, azurite: str, table: str, sqs_url: str, queue: str, issuer: LocalIssuer
) -> Settings:
    return Settings(
        cloud=cloud,
        storage=StorageSettings(
            store="dynamodb",
            dynamodb_table=table,
            sqs_queue_url=sqs_url,
            aws_endpoint_url=moto,
            azure_connection_string=azurite,
            queue_name=queue,
        ),
        local=LocalSettings(enabled=True),
        auth=AuthSettings(issuer=issuer.issuer),
    )


def test_run_crosses_from_the_lambda_handlers_to_the_azure_functions(
    moto_endpoint: str,
    azurite_connection_string: str,
    aws_client: Callable[[str], Any],
    issuer: LocalIssuer,
    orders_server: tuple[OrdersService, str],
) -> None:
    service, url = orders_server
    suffix = uuid.uuid4().hex[:8]
    table, queue_name = f"runs-{suffix}", f"work-{suffix}"
    create_dynamodb_table(aws_client("dynamodb"), table)
    sqs_url = create_sqs_queue(aws_client("sqs"), f"work-{suffix}").queue_url
    azure_queue = AzureStorageQueue(
        azure_queue_client(queue_name, connection_string=azurite_connection_string)
    )
    azure_queue.create_queues()
    planners: dict[str, ScriptedPlanner] = {}

    def orchestrator(deps: Deps) -> Orchestrator:  # real everything but the planner
        return build_orchestrator(
            store=deps.store,
            cloud=deps.cloud,
            guard=PassThroughGuard(),
            handoff=QueueHandoff(deps.queue_for, sender=deps.cloud),
            planners=lambda run: planners.setdefault(run.id, ScriptedPlanner(SCRIPT)),
        )

    deps = {
        cloud: Deps(
            _settings(
                cloud, moto_endpoint, azurite_connection_string, table, sqs_url, queue_name, issuer
            ),
            orchestrator_factory=orchestrator,
        )
        for cloud in ("aws", "azure")
    }
    token = {"authorization": "Bearer " + issuer.token("alice", "acme")}

    # 1. Start through the Lambda HTTP handler: 202, the run in DynamoDB, a message on SQS.
    lambda_http = http_handler.make_handler(api_handler(deps["aws"]))
    body = json.dumps(
        {"goal": "order 5 of A-1", "catalog": [f"{url}/openapi.json"], "base_urls": {"Orders": url}}
    ).encode()
    started = lambda_http(
        http_event(
            "POST", "/runs", body=body, headers={**token, "content-type": "application/json"}
        ),
        LambdaContext(),
    )
    assert started["statusCode"] == 202, started["body"]
    run_id = json.loads(started["body"])["run_id"]

    # 2. The SQS worker handler gets the real message: reads on AWS, hands the write over.
    sqs = aws_client("sqs")
    [message] = sqs.receive_message(QueueUrl=sqs_url, MaxNumberOfMessages=10)["Messages"]
    event = {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": message["MD5OfBody"],
                "eventSource": "aws:sqs",
                "awsRegion": "eu-central-1",
                "eventSourceARN": "arn:aws:sqs:eu-central-1:123456789012:work",
            }
        ]
    }
    lambda_worker = worker_handler.make_handler(Worker(deps["aws"]))
    assert lambda_worker(event, LambdaContext()) == {"batchItemFailures": []}
    assert service.orders == {}

    # 3. The Azure queue trigger gets the handoff from Azurite and places the order.
    app = make_app(api_handler(deps["azure"]), Worker(deps["azure"]))
    [trigger] = [
        f.get_user_function() for f in app.get_functions() if f.get_function_name() == "worker"
    ]
    [received] = azure_queue.receive(max_messages=5)
    assert (received.envelope.target, received.envelope.sender) == ("azure", "aws")
    trigger(
        QueueMessage(
            id=received.message_id,
            body=received.envelope.to_json(),  # type: ignore[no-untyped-call]
            dequeue_count=received.receive_count,
        )
    )
    azure_queue.ack(received)

    # 4. Read it back through an Azure HTTP function.
    view = json.loads(
        AzureBridge(api_handler(deps["azure"])).http("GET", f"/runs/{run_id}", headers=token).body
    )
    assert view["status"] == "succeeded" and view["result"] == "ordered"
    assert [c["worker"] for s in view["steps"] for c in s["calls"]] == ["aws", "azure"]
    assert len(service.orders) == 1
    stored: Run = deps["aws"].store.get_run(run_id)
    assert stored.owner == "azure"
