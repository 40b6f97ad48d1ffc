"""Local development server: both cloud adapters, their queue workers, a token issuer and the
supply-chain services, all on 127.0.0.1.

- ``/aws/...``: each request becomes an API Gateway HTTP API event for the Lambda handler of
  ``functions/aws``; SQS messages reach its worker handler as SQS events.
- ``/azure/...``: each request becomes a ``func.HttpRequest`` for the function app of
  ``functions/azure``; Storage-queue messages reach its queue trigger.

``backend="emulators"`` keeps state in DynamoDB on the moto server and uses SQS (moto) and an
Azure Storage queue (Azurite), as ``scripts/dev`` sets up; ``backend="memory"`` keeps everything
in-process (tests). Both clouds share one run store, so a run handed over continues where it
stopped. Run with ``python -m paddock.dev.server`` (see ``scripts/dev``).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Literal

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.api.deps import Deps
from core.api.worker import Worker
from core.entry import api_handler
from core.errors import ConfigError
from core.identity.setup import Identity
from core.queue.base import TaskQueue
from core.settings import Settings
from core.workflows import WorkflowSet
from paddock.dev.bridges import AwsBridge, AzureBridge, HttpResult
from paddock.local.issuer import LocalIssuer
from paddock.local.servers import LocalServer

log = logging.getLogger("paddock.dev")
Backend = Literal["emulators", "memory"]
CLOUDS = ("aws", "azure")
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
DEV_TABLE = "paddock-dev"
DEV_SQS = "paddock-dev-work"
DEV_AZURE_QUEUE = "paddock-dev-work"
DROP_HEADERS = {"content-length", "transfer-encoding", "connection"}


class DevServer:
    """Everything ``scripts/dev`` serves. Use as a context manager or ``start()``/``stop()``."""

    def __init__(
        self,
        *,
        backend: Backend = "emulators",
        port: int | None = None,
        env: Mapping[str, str] | None = None,
        workers: bool = True,
        poll_seconds: float = 0.2,
        bundles: Sequence[Path] = (),
        base_urls: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        """``bundles``: workflow bundle folders served beside the examples (and those under
        ``PADDOCK_WORKFLOWS_DIR``); ``base_urls``: where a workflow's services answer here,
        by workflow name and spec title (their ports are then allowed in local mode)."""
        self.backend = backend
        self.bundles = [Path(b) for b in bundles]
        self.base_urls = {k: dict(v) for k, v in (base_urls or {}).items()}
        self.env = dict(os.environ if env is None else env)
        self.workers = workers
        self.poll_seconds = poll_seconds
        self._server = LocalServer(self._app(), port=port, name="paddock-dev")
        self.issuer = LocalIssuer()
        self._stack = ExitStack()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.deps: dict[str, Deps] = {}
        self.aws: AwsBridge | None = None
        self.azure: AzureBridge | None = None
        self.services: Any = None
        self.identity: Identity | None = None
        self._sqs_url: str | None = None

    @property
    def url(self) -> str:
        return self._server.url

    def start(self) -> DevServer:
        from examples.supply_chain import SupplyChainServices
        from examples.supply_chain.identity import local_verifiers
        from paddock.local.identity import local_identity_bundle

        try:
            self._stack.enter_context(self.issuer)
            # Local credentials (SigV4 key, Entra-style tokens, API key), as in the demo: the
            # workers present them and each service verifies them.
            self.identity, local = local_identity_bundle()
            self.services = self._stack.enter_context(
                SupplyChainServices(verify_auth=local_verifiers(local))
            )
            self._wire()
            self._stack.callback(self._server.stop)
            self._server.start()
            if self.workers:
                self._start_workers()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()
        self._stack.close()

    def __enter__(self) -> DevServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- wiring ---------------------------------------------------------------------------

    def _wire(self) -> None:
        shared_store: Any = None
        shared_queues: dict[str, TaskQueue] | None = None
        if self.backend == "memory":
            from core.queue.memory import MemoryQueue
            from core.state.memory import MemoryStore

            shared_store = MemoryStore()
            shared_queues = {c: MemoryQueue() for c in CLOUDS}
        else:
            self._create_resources()
        from examples import rule_scripts

        workflows = self._workflows()
        for cloud in CLOUDS:
            settings = Settings.from_env(self.cloud_env(cloud))
            self.deps[cloud] = Deps(
                settings,
                store=shared_store,
                queues=shared_queues,
                workflows=workflows,
                rule_scripts=rule_scripts(),
                identity=self.identity,
            )
        aws, azure = self.deps["aws"], self.deps["azure"]
        self.aws = AwsBridge(api_handler(aws), Worker(aws))
        self.azure = AzureBridge(api_handler(azure), Worker(azure))

    def _workflows(self) -> WorkflowSet:
        from core.bundles import load_bundle
        from core.bundles.deployed import load_workflows
        from examples import example_workflows

        found = dict(example_workflows())
        found.update(load_workflows(Settings.from_env(self.env).workflows.dir))
        found.update({w.name: w for w in map(load_bundle, self.bundles)})
        workflows = WorkflowSet(found.values())
        urls = {"supply-chain": dict(self.services.base_urls)} | self.base_urls
        for name, by_title in urls.items():
            workflows = workflows.with_base_urls(name, by_title)
        return workflows

    def cloud_env(self, cloud: str) -> dict[str, str]:
        """The ``PADDOCK_*`` settings of one cloud's handlers."""
        env = dict(self.env)
        env.update(
            {
                "PADDOCK_CLOUD": cloud,
                "PADDOCK_LOCAL_MODE": "1",
                "PADDOCK_AUTH_ISSUER": self.issuer.issuer,
                "PADDOCK_AUTH_JWKS_URL": self.issuer.jwks_url,
                "PADDOCK_AUTH_AUDIENCE": "paddock-api",
            }
        )
        if self.backend == "emulators":
            # One store both clouds' workers share (DynamoDB on moto); a queue per cloud.
            env["PADDOCK_STORE"] = "dynamodb"
            env["PADDOCK_DYNAMODB_TABLE"] = DEV_TABLE
            env.setdefault("PADDOCK_QUEUE_NAME", DEV_AZURE_QUEUE)
            if self._sqs_url:
                env["PADDOCK_SQS_QUEUE_URL"] = self._sqs_url
        return env

    def _create_resources(self) -> None:
        from core.queue.azure import AzureStorageQueue, azure_queue_client
        from core.queue.sqs import create_sqs_queue
        from core.state.dynamodb import create_dynamodb_table
        from core.state.factory import aws_client

        storage = Settings.from_env(self.env).storage
        if not storage.aws_endpoint_url or not storage.azure_connection_string:
            raise SystemExit(
                "the dev server needs the emulators: run scripts/dev (or "
                "scripts/emulators start and source .paddock/emulators.env)"
            )
        dynamodb = aws_client("dynamodb", storage)
        if DEV_TABLE not in dynamodb.list_tables()["TableNames"]:
            create_dynamodb_table(dynamodb, DEV_TABLE)
        self._sqs_url = create_sqs_queue(aws_client("sqs", storage), DEV_SQS).queue_url
        queue_name = self.env.get("PADDOCK_QUEUE_NAME", DEV_AZURE_QUEUE)
        AzureStorageQueue(
            azure_queue_client(queue_name, connection_string=storage.azure_connection_string)
        ).create_queues()

    # -- workers --------------------------------------------------------------------------

    def _start_workers(self) -> None:
        for cloud, target in (("aws", self._poll_aws), ("azure", self._poll_azure)):
            thread = threading.Thread(target=target, name=f"dev-worker-{cloud}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _poll_aws(self) -> None:
        assert self.aws is not None
        queue = self.deps["aws"].queue_for("aws")
        while not self._stop.is_set():
            messages = _receive(queue)
            if messages:
                failed = self.aws.deliver(messages)
                for message in messages:  # what the SQS event source mapping does
                    if message.message_id in failed:
                        queue.release(message, delay_seconds=1)
                    else:
                        queue.ack(message)
            else:
                self._stop.wait(self.poll_seconds)

    def _poll_azure(self) -> None:
        assert self.azure is not None
        queue = self.deps["azure"].queue_for("azure")
        while not self._stop.is_set():
            messages = _receive(queue)
            for message in messages:  # what the Functions host does per message
                try:
                    self.azure.deliver(message)
                except Exception:
                    log.exception("azure worker failed on %s", message.message_id)
                    queue.release(message, delay_seconds=1)
                else:
                    queue.ack(message)
            if not messages:
                self._stop.wait(self.poll_seconds)

    # -- HTTP -----------------------------------------------------------------------------

    def _app(self) -> Starlette:
        async def index(_: Request) -> JSONResponse:
            return JSONResponse(
                {
                    "aws": f"{self.url}/aws/",
                    "azure": f"{self.url}/azure/",
                    "issuer": self.issuer.issuer,
                    "openapi": f"{self.url}/aws/openapi.json",
                    "console": f"{self.url}/aws/console/",
                }
            )

        async def aws(request: Request) -> Response:
            assert self.aws is not None
            return await self._forward(request, self.aws.http)

        async def azure(request: Request) -> Response:
            assert self.azure is not None
            return await self._forward(request, self.azure.http)

        return Starlette(
            routes=[
                Route("/", index),
                Route("/aws/{path:path}", aws, methods=METHODS),
                Route("/azure/{path:path}", azure, methods=METHODS),
            ]
        )

    async def _forward(self, request: Request, send: Any) -> Response:
        body = await request.body()
        path = "/" + request.path_params["path"]
        result: HttpResult = await run_in_threadpool(
            send,
            request.method,
            path,
            query=dict(request.query_params),
            headers=dict(request.headers),
            body=body,
        )
        headers = {k: v for k, v in result.headers.items() if k not in DROP_HEADERS}
        return Response(result.body, status_code=result.status, headers=headers)

    # -- tokens ---------------------------------------------------------------------------

    def tokens(self, tenant: str = "acme", expires_in: int = 12 * 3600) -> dict[str, str]:
        """Dev tokens: a requester, an approver and an admin of ``tenant``."""
        return {
            "TOKEN": self.issuer.token("alice@acme.example", tenant, [], expires_in=expires_in),
            "APPROVER": self.issuer.token(
                "bob@acme.example", tenant, ["approver"], expires_in=expires_in
            ),
            "ADMIN": self.issuer.token(
                "root@acme.example", tenant, ["admin", "approver"], expires_in=expires_in
            ),
        }


def _receive(queue: TaskQueue) -> list[Any]:
    try:
        return queue.receive(max_messages=5, visibility_timeout=60)
    except Exception:
        log.exception("queue receive failed")
        return []


def banner(server: DevServer, env_file: Path) -> str:
    url = server.url
    return f"""
Paddock dev server ({server.backend})  {url}
  AWS adapter   {url}/aws/...    API Gateway v2 events -> functions/aws (Lambda handlers)
  Azure adapter {url}/azure/...  func.HttpRequest -> functions/azure (function app)
  console       {url}/aws/console/  (or /azure/console/; dev sign-in as alice, bob or root)
  issuer        {server.issuer.issuer}   (local OIDC issuer, tokens valid 12 h)
  workers       SQS -> AWS worker handler; Storage queue -> Azure queue trigger

Tokens are in {env_file}:  set -a; . {env_file}; set +a

  curl -s {url}/aws/healthz
  curl -s -X POST {url}/aws/runs -H "Authorization: Bearer $TOKEN" \\
       -H 'Content-Type: application/json' -H 'Idempotency-Key: demo-1' \\
       -d '{{"scenario": "supply-chain"}}'
  curl -s {url}/azure/runs/$RUN -H "Authorization: Bearer $TOKEN"        # watch it advance
  curl -s {url}/aws/approvals -H "Authorization: Bearer $APPROVER"
  curl -s -X POST {url}/azure/runs/$RUN/approvals/$APPROVAL \\
       -H "Authorization: Bearer $APPROVER" -H 'Content-Type: application/json' \\
       -d '{{"decision": "approve", "comment": "ok"}}'

Ctrl-C stops the server.
"""


def main(argv: list[str] | None = None) -> int:
    summary = (__doc__ or "").split("\n\n")[0].replace("\n", " ")
    parser = argparse.ArgumentParser(prog="scripts/dev", description=summary)
    parser.add_argument("--port", type=int, default=8700)
    parser.add_argument("--backend", choices=("emulators", "memory"), default="emulators")
    parser.add_argument("--env-file", type=Path, default=Path(".paddock/dev.env"))
    parser.add_argument(
        "--bundle",
        action="append",
        default=[],
        type=Path,
        metavar="DIR",
        help="serve this workflow bundle too (repeatable; docs/bundles.md)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("paddock").setLevel(logging.INFO)
    # The handlers' Powertools loggers and EMF metrics still print JSON lines, as on Lambda.
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    server = DevServer(backend=args.backend, port=args.port, bundles=args.bundle)
    try:
        server.start()
    except ConfigError as exc:  # a bad PADDOCK_* setting: one line, no traceback
        print(f"scripts/dev: {exc.message}", file=sys.stderr)
        return 2
    try:
        tokens = server.tokens()
        args.env_file.parent.mkdir(parents=True, exist_ok=True)
        args.env_file.write_text(
            "".join(f"{k}={v}\n" for k, v in tokens.items()) + f"PADDOCK_DEV_URL={server.url}\n"
        )
        print(banner(server, args.env_file), flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("stopping", file=sys.stderr)
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
