"""Fan-out under a shared LLM limit: one parent run reads a supplier list and fans out over it
(``fan_out``: one child run per supplier, 50 by default), each child asking a local
OpenAI-compatible server that enforces a TPM and an RPM limit (429 above them), worked by
several worker *processes* through the emulators (DynamoDB + SQS on moto, Table + Azure queue
on Azurite).

Every worker takes tokens from the same buckets in the store before each model call (estimate
before, reconcile after) and re-enqueues with a queue delay when there are none. The limits
are per ``--window`` seconds (default 60 s with 5% burst, as deployed). Printed per size and
backend: the fraction of the TPM limit used over the whole run and over the fan-out phase
(target >= 90%), 429s received (target 0), runs lost (target 0), deferrals, total time versus
the theoretical minimum (total tokens / TPM), the parent's largest prompt (target: no bigger
at 1,000 children than at 50), and another tenant's one interactive run: its time on the idle
system and when started a quarter into the fan-out (target: within 2x).

Usage: .venv/bin/python bench/fanout.py [--children 50,300,1000] [--workers 3]
       [--backends aws,azure] [--shape data|tokens] [--no-probe]
Uses PADDOCK_AWS_ENDPOINT_URL / PADDOCK_AZURE_CONNECTION_STRING when set (scripts/emulators),
otherwise starts the emulators itself.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from store_cost import emulators

from core.domain import Budget, Grant, Run, RunStatus
from core.orchestrator._ledger import Ledger

REGION = "eu-central-1"
INTERACTIVE = "Interactive check"
DEPLOYMENT = "gpt-4o-mini"
NOTES = (
    "Supplier file: on-time delivery 94.1% over 12 months, two late shipments in Q3, "
    "ISO 9001 certified, single plant, payment terms net 45, no open disputes. "
) * 6


# -- the model ----------------------------------------------------------------------------------


def model_turn(children: int, shape: str) -> Any:
    """The scripted model: the parent fans out, children assess, the parent sums up.

    ``shape="tokens"``: the parent writes every task into one ``spawn_subtasks`` call (its
    completion and the fan-in grow with N). ``shape="data"``: it reads the supplier list with
    one tool call and fans out over that result with one short ``fan_out`` call.
    """
    from paddock.testing.fake_openai import TextReply, ToolCall, ToolCallsReply

    def turn(body: dict[str, Any]) -> Any:
        tools = {t["function"]["name"] for t in body.get("tools", [])}
        results = [m for m in body["messages"] if m.get("role") == "tool"]
        if INTERACTIVE in json.dumps(body["messages"][:2]):  # the other tenant's one run
            if len(results) < 2:
                return ToolCallsReply([ToolCall("count_suppliers", {})])
            return TextReply("Two checks done: the supplier base is complete.")
        if "spawn_subtasks" not in tools:
            return TextReply(
                "Risk: low. On-time delivery above 94%, no open disputes. Confidence: 0.8"
            )
        if shape == "tokens" and not results:
            tasks = [
                {
                    "goal": f"Assess the delivery risk of supplier S-{n:04d}",
                    "inputs": {"supplier": f"S-{n:04d}", "notes": NOTES},
                }
                for n in range(children)
            ]
            return ToolCallsReply([ToolCall("spawn_subtasks", {"tasks": tasks})])
        if shape == "data" and not results:
            return ToolCallsReply([ToolCall("list_suppliers", {})])
        if shape == "data" and len(results) == 1:
            over = {"from_tool": "list_suppliers", "path": "$.suppliers[*]"}
            goal = "Assess the delivery risk of supplier {id}: {notes}"
            return ToolCallsReply([ToolCall("fan_out", {"over": over, "goal": goal})])
        return TextReply("All suppliers assessed; see the child runs for details.")

    return turn


# -- backends -------------------------------------------------------------------------------------


def make_backend(kind: str, cfg: dict[str, Any]) -> tuple[Any, Any]:
    """(store, queue) of ``kind`` from names in ``cfg``; creates them when ``create``."""
    if kind == "aws":
        import boto3

        from core.queue import SqsQueue
        from core.state.dynamodb import DynamoDBStore

        def client(service: str) -> Any:
            return boto3.client(
                service,
                endpoint_url=cfg["endpoint"],
                region_name=REGION,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )

        # a parent holding 1,000 child references is claim-checked to S3, as deployed
        store = DynamoDBStore(
            client("dynamodb"), cfg["table"], s3_client=client("s3"), bucket=cfg["table"]
        )
        if cfg.get("create"):
            from core.queue import create_sqs_queue

            store.create_table()
            client("s3").create_bucket(
                Bucket=cfg["table"], CreateBucketConfiguration={"LocationConstraint": REGION}
            )
            urls = create_sqs_queue(client("sqs"), cfg["queue"], visibility_timeout=60)
            cfg["queue_url"], cfg["dlq_url"] = urls.queue_url, urls.dlq_url
        sqs = SqsQueue(
            client("sqs"), cfg["queue_url"], dlq_url=cfg["dlq_url"], wait_seconds=cfg.get("poll", 0)
        )
        return store, sqs
    from azure.data.tables import TableServiceClient
    from azure.storage.blob import BlobServiceClient

    from core.queue import AzureStorageQueue, azure_queue_client
    from core.state.table import TableStore

    service = TableServiceClient.from_connection_string(cfg["conn"])
    blobs = BlobServiceClient.from_connection_string(cfg["conn"]).get_container_client(cfg["table"])
    store = TableStore(service, cfg["table"], blob_container_client=blobs)
    queue = AzureStorageQueue(azure_queue_client(cfg["queue"], connection_string=cfg["conn"]))
    if cfg.get("create"):
        store.create_table()
        blobs.create_container()
        queue.create_queues()
    return store, queue


def dead_letters(kind: str, cfg: dict[str, Any]) -> int:
    """Messages set aside as poison (SQS DLQ / Azure ``-poison`` queue)."""
    if kind == "aws":
        import boto3

        sqs = boto3.client(
            "sqs",
            endpoint_url=cfg["endpoint"],
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        attrs = sqs.get_queue_attributes(
            QueueUrl=cfg["dlq_url"], AttributeNames=["ApproximateNumberOfMessages"]
        )
        return int(attrs["Attributes"]["ApproximateNumberOfMessages"])
    from core.queue import azure_queue_client

    poison = azure_queue_client(f"{cfg['queue']}-poison", connection_string=cfg["conn"])
    try:
        return int(poison.get_queue_properties().approximate_message_count)
    except Exception:  # no poison queue: nothing was set aside
        return 0


def build_orchestrator(store: Any, queue: Any, cfg: dict[str, Any]) -> Any:
    from openai import OpenAI

    from core.guardrails import PolicyGuard
    from core.orchestrator.children import ChildRuns, with_subtask_tool
    from core.orchestrator.engine import Orchestrator
    from core.planner.openai_planner import OpenAIPlanner
    from core.ratelimit import (
        DeploymentLimits,
        RateLimitedPlanner,
        RateLimiter,
        chat_estimator,
    )

    limits = DeploymentLimits(
        DEPLOYMENT,
        tokens_per_minute=cfg["tpm"],
        requests_per_minute=cfg["rpm"],
        window_seconds=cfg["window"],
        burst=cfg["burst"],
    )
    inner = OpenAIPlanner(
        OpenAI(base_url=cfg["model_url"], api_key="bench"),
        DEPLOYMENT,
        max_retries=0,
        max_retry_wait=0.0,
    )
    planner = RateLimitedPlanner(
        inner, RateLimiter(store), limits, estimate=chat_estimator(completion_allowance=48)
    )
    suppliers = _SupplierList(int(cfg["children"]))
    nothing = _SupplierList(0, offered=False)
    return Orchestrator(
        store=store,
        # the parent reads the supplier master; a child's goal carries its supplier's notes
        catalogs=with_subtask_tool(lambda run: nothing if run.parent_id else suppliers),
        planners=lambda run: planner,
        guard=PolicyGuard(),
        executor=suppliers,
        children=ChildRuns(store, {"local": queue}),
    )


class _SupplierList:
    """The one tool of the data-shaped fan-out: the supplier master, N records."""

    def __init__(self, count: int, *, offered: bool = True) -> None:
        from core.domain import EngineBinding, Location, Tool

        self.count = count
        self.offered = offered
        empty = {"type": "object", "properties": {}, "additionalProperties": False}
        self._tools = [
            Tool(
                name=name,
                description=text,
                args_schema=empty,
                binding=EngineBinding(handler="bench", name=name),
                location=Location.AWS,
            )
            for name, text in (
                ("list_suppliers", "Every supplier of the plant with its delivery notes."),
                ("count_suppliers", "How many suppliers the plant has."),
            )
        ]

    @property
    def tools(self) -> list[Any]:
        return list(self._tools) if self.offered else []

    def find(self, name: str) -> Any:
        return next((t for t in self.tools if t.name == name), None)

    def execute(self, tool: Any, args: Any, ctx: Any) -> Any:
        from core.execution.base import ExecutionResult

        if tool.name == "count_suppliers":
            return ExecutionResult(status_code=200, body={"suppliers": self.count})
        rows = [{"id": f"S-{n:04d}", "notes": NOTES[:120]} for n in range(self.count)]
        return ExecutionResult(status_code=200, body={"suppliers": rows})


# -- worker process -----------------------------------------------------------------------------


def worker(cfg: dict[str, Any]) -> int:
    from core.api.worker import process_envelope

    store, queue = make_backend(cfg["kind"], {**cfg, "poll": 1})  # SQS long polls, as Lambda
    orch = build_orchestrator(store, queue, cfg)
    stop = Path(cfg["stop"])
    counts: dict[str, int] = {}
    while not stop.exists():
        got = queue.receive(max_messages=4, visibility_timeout=60)
        if not got:
            time.sleep(0.05)
            continue
        for message in got:
            try:
                out = process_envelope(message.envelope, orch, {"local": queue})
            except Exception as exc:  # as a queue trigger does: not acked, delivered again
                print(f"worker {os.getpid()}: {message.envelope.run_id}: {exc!r}", file=sys.stderr)
                counts["error"] = counts.get("error", 0) + 1
                continue
            queue.ack(message)
            counts[out.outcome.value] = counts.get(out.outcome.value, 0) + 1
    print(json.dumps(counts))
    return 0


# -- one measurement ----------------------------------------------------------------------------


def measure(kind: str, env: dict[str, str], args: argparse.Namespace) -> dict[str, Any]:
    from core.queue.base import Envelope
    from paddock.testing.fake_openai import ScriptedOpenAI

    tag = uuid.uuid4().hex[:8]
    cfg: dict[str, Any] = {
        "kind": kind,
        "table": f"fan{tag}",
        "queue": f"fan-{tag}",
        "create": True,
        "endpoint": env["PADDOCK_AWS_ENDPOINT_URL"],
        "conn": env["PADDOCK_AZURE_CONNECTION_STRING"],
        "tpm": args.tpm,
        "rpm": args.rpm,
        "window": args.window,
        "burst": args.burst,
        "stop": str(Path(tempfile.mkdtemp(prefix="fanout-")) / "stop"),
        "children": args.children,
    }
    fake = ScriptedOpenAI(
        default=model_turn(args.children, args.shape),
        tpm_limit=args.tpm,
        rpm_limit=args.rpm,
        window_seconds=args.window,
        latency_seconds=args.latency,
    ).start()
    cfg["model_url"] = fake.base_url
    store, queue = make_backend(kind, cfg)
    cfg["create"] = False
    orch = build_orchestrator(store, queue, cfg)
    procs = [
        subprocess.Popen(
            [sys.executable, __file__, "--worker", json.dumps(cfg)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for _ in range(args.workers)
    ]
    _interactive(orch, queue, f"run_warm{tag}", timeout=120)  # the workers are up
    time.sleep(3 * args.window * args.burst)  # the buckets are full again
    idle = _interactive(orch, queue, f"run_idle{tag}", timeout=60) if args.probe else None
    before = fake.counters
    parent = orch.create(
        Run(
            id=f"run_fan{tag}",
            goal="Assess the delivery risk of every supplier",
            grant=Grant(max_children=args.children),
            planner="openai",
            budget=Budget(max_running_children=args.running),
        )
    )
    started = time.monotonic()
    queue.send(Envelope(run_id=parent.id, expected_version=parent.version, target="local"))
    deadline = started + args.timeout
    busy: float | None = None
    ledger = Ledger(store)
    last_shown = 0.0
    while time.monotonic() < deadline:
        if store.get_run(parent.id, with_steps=False).status.finished:
            break
        done = len(ledger.read(parent.id, 1).done)
        if args.probe and busy is None and done >= args.children // 4:
            # a quarter of the fan-out done: the other tenant's interactive run starts now
            busy = _interactive(orch, queue, f"run_busy{tag}", timeout=deadline - time.monotonic())
        if time.monotonic() - last_shown >= 15:
            last_shown = time.monotonic()
            print(f"  {kind}: {done}/{args.children} children done", file=sys.stderr)
        time.sleep(0.2)
    elapsed = time.monotonic() - started
    Path(cfg["stop"]).touch()
    outcomes: dict[str, int] = {}
    for proc in procs:
        out, _ = proc.communicate(timeout=60)
        for key, value in json.loads(out.strip().splitlines()[-1] or "{}").items():
            outcomes[key] = outcomes.get(key, 0) + value
    after = fake.counters
    fake.stop()
    final = store.get_run(parent.id)
    children = [store.get_run(c.id) for c in final.children]
    finished = [c for c in children if c.steps]
    fan_tokens = sum(c.usage.total_tokens for c in children)
    fan_seconds = (
        (
            max(c.updated_at for c in finished) - min(c.steps[0].started_at for c in finished)
        ).total_seconds()
        if finished
        else 0.0
    )
    lost = (
        args.children
        - sum(1 for c in children if c.status is RunStatus.SUCCEEDED)
        + (0 if final.status is RunStatus.SUCCEEDED else 1)
    )
    for run in [final, *children]:
        if run.status is not RunStatus.SUCCEEDED:
            print(f"  {kind}: run {run.id} is {run.status.value}: {run.reason}", file=sys.stderr)
    tokens = (after.prompt_tokens + after.completion_tokens) - (
        before.prompt_tokens + before.completion_tokens
    )
    rate = args.tpm / args.window
    parent_prompt = max(
        (_prompt_tokens(r.body) for r in fake.requests if _is_parent(r.body)), default=0
    )
    return {
        "backend": kind,
        "elapsed": elapsed,
        "tokens": tokens,
        "used": tokens / (rate * elapsed),
        "throttled": after.throttled - before.throttled,
        "fan_used": fan_tokens / (rate * fan_seconds) if fan_seconds else 0.0,
        "errors": outcomes.get("error", 0),
        "dead": dead_letters(kind, cfg),
        "completions": after.completions - before.completions,
        "lost": lost,
        "minimum": tokens / rate,
        "deferred": outcomes.get("deferred", 0),
        "parent": final.status.value,
        "parent_prompt": parent_prompt,
        "idle": idle,
        "busy": busy,
        "step_deferrals": sum(s.deferrals for c in children for s in c.steps),
    }


def _interactive(orch: Any, queue: Any, run_id: str, *, timeout: float) -> float:
    """Seconds from start to finish of the other tenant's one run (three model calls)."""
    from core.queue.base import Envelope

    run = orch.create(
        Run(
            id=run_id,
            goal=f"{INTERACTIVE}: count the suppliers twice",
            tenant="globex",
            planner="openai",
        )
    )
    started = time.monotonic()
    queue.send(Envelope(run_id=run.id, expected_version=run.version, target="local"))
    while time.monotonic() - started < timeout:
        done = orch.store.get_run(run.id, with_steps=False)
        if done.status.finished:
            if done.status is not RunStatus.SUCCEEDED:
                print(
                    f"  interactive run {run_id}: {done.status.value}: {done.reason}",
                    file=sys.stderr,
                )
            took = time.monotonic() - started
            waits = [(s.deferrals, s.deferred_reason) for s in orch.store.get_run(run.id).steps]
            if any(n for n, _ in waits):
                print(f"  interactive run {run_id}: deferred {waits}", file=sys.stderr)
            return took
        time.sleep(0.05)
    return float("nan")


def _is_parent(body: dict[str, Any]) -> bool:
    return any(t["function"]["name"] == "spawn_subtasks" for t in body.get("tools", []))


def _prompt_tokens(body: dict[str, Any]) -> int:
    """The request as the model reads it, at four characters a token (what the planners'
    estimator counts)."""
    return (
        len(json.dumps(body.get("messages", []))) // 4 + len(json.dumps(body.get("tools", []))) // 4
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument(
        "--children", default="50", help="sub-tasks per fan-out; a list runs each: 50,300,1000"
    )
    parser.add_argument(
        "--no-probe",
        dest="probe",
        action="store_false",
        help="skip the other tenant's interactive run (idle, then a quarter into the fan-out)",
    )
    parser.add_argument(
        "--shape",
        choices=("data", "tokens"),
        default="data",
        help="data: fan_out over a tool result (default); tokens: the model writes every task",
    )
    parser.add_argument("--workers", type=int, default=3, help="worker processes (>= 2)")
    parser.add_argument("--backends", default="aws,azure")
    parser.add_argument("--tpm", type=int, default=100_000, help="tokens per window")
    parser.add_argument("--rpm", type=int, default=600, help="requests per window")
    parser.add_argument("--window", type=float, default=60.0, help="limit window, seconds")
    parser.add_argument(
        "--burst", type=float, default=0.05, help="share of the limit a bucket may hand out at once"
    )
    parser.add_argument(
        "--latency", type=float, default=0.5, help="model latency per request, seconds"
    )
    parser.add_argument(
        "--running", type=int, default=50, help="children in flight at once (the parent's cap)"
    )
    parser.add_argument("--timeout", type=float, default=240.0)
    args = parser.parse_args()
    if args.worker:
        return worker(json.loads(args.worker))
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    try:
        sizes = [int(n) for n in str(args.children).split(",")]
    except ValueError:
        parser.error(
            f"--children takes sizes separated by commas, e.g. 50,300,1000: {args.children!r}"
        )
    if any(n < 1 for n in sizes):
        parser.error("--children: every size must be at least 1")
    rows = []
    with emulators() as env:
        for size in sizes:
            for kind in args.backends.split(","):
                one = argparse.Namespace(**{**vars(args), "children": size})
                rows.append({"children": size, **measure(kind.strip(), env, one)})
    print(
        f"Fan-out, {args.workers} worker processes, limit {args.tpm:,} tokens and {args.rpm} "
        f"requests per {args.window:g} s, {args.shape}-shaped, model latency {args.latency:g} s"
    )
    print(
        f"{'children':>8} {'backend':<7} {'TPM used':>8} {'in fan-out':>10} {'429s':>5} "
        f"{'lost':>5} {'deferred':>8} {'errors':>6} {'DLQ':>4} {'tokens':>9} {'time s':>7} "
        f"{'min s':>6} {'time/min':>8} {'parent prompt':>13} {'parent':>9} "
        f"{'other tenant idle/busy s':>24}"
    )
    for r in rows:
        probe = (
            f"{r['idle']:.2f} / {r['busy']:.2f} ({r['busy'] / r['idle']:.1f}x)"
            if r["idle"] and r["busy"]
            else "-"
        )
        print(
            f"{r['children']:>8} {r['backend']:<7} {r['used']:>8.1%} {r['fan_used']:>10.1%} "
            f"{r['throttled']:>5} {r['lost']:>5} {r['deferred']:>8} {r['errors']:>6} "
            f"{r['dead']:>4} {r['tokens']:>9,} {r['elapsed']:>7.1f} {r['minimum']:>6.1f} "
            f"{r['elapsed'] / r['minimum']:>8.2f} {r['parent_prompt']:>13,} {r['parent']:>9} "
            f"{probe:>24}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
