"""Cold import time of the handler modules next to bare Powertools / azure-functions handlers.

Each sample is a fresh interpreter (the project venv) that imports one module and, separately,
serves a first request (GET /healthz, or one SQS record / queue message that is not an
envelope). Median of N runs (default 15), all measured in the same run, interleaved so drift
in machine load hits every row alike. Target: handler import <= 1.3x its bare baseline.

Usage: .venv/bin/python bench/cold_import.py [--runs 15]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BARE_LAMBDA_HTTP = """
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

logger = Logger(service="bare")
metrics = Metrics(namespace="Bare", service="bare")
app = APIGatewayHttpResolver()


@app.get("/healthz")
def health():
    return {"status": "ok"}


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event, context):
    return app.resolve(event, context)
"""

BARE_LAMBDA_SQS = """
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor, EventType, process_partial_response)

logger = Logger(service="bare")
metrics = Metrics(namespace="Bare", service="bare")
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def record_handler(record):
    import json
    return json.loads(record.body)


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event, context):
    return process_partial_response(event=event, record_handler=record_handler,
                                    processor=processor, context=context)
"""

BARE_AZURE = """
import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="healthz", methods=["GET"])
def health(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse('{"status": "ok"}', mimetype="application/json")


@app.queue_trigger(arg_name="msg", queue_name="work", connection="AzureWebJobsStorage")
def work(msg: func.QueueMessage) -> None:
    import json
    json.loads(msg.get_body())
"""

# What a first request looks like for each kind of module (run after the import).
FIRST_LAMBDA_HTTP = """
from paddock.dev.events import LambdaContext, http_api_event
mod.handler(http_api_event("GET", "/healthz"), LambdaContext())
"""
FIRST_LAMBDA_SQS = """
from paddock.dev.events import LambdaContext, SqsMessage, sqs_event
mod.handler(sqs_event([SqsMessage("m1", "r1", "not json")]), LambdaContext())
"""
FIRST_AZURE = """
import azure.functions as func
fns = {f.get_function_name(): f.get_user_function() for f in mod.app.get_functions()}
req = func.HttpRequest("GET", "http://localhost/healthz", headers={}, params={}, body=b"")
class Ctx:
    invocation_id = "bench"
fn = fns["health"]
fn(req, Ctx()) if fn.__code__.co_argcount == 2 else fn(req)
"""

ROWS = [
    # label, module, baseline label, first request
    ("bare Powertools HTTP handler", "bare_lambda_http", None, FIRST_LAMBDA_HTTP),
    (
        "functions.aws.http_handler",
        "functions.aws.http_handler",
        "bare Powertools HTTP handler",
        FIRST_LAMBDA_HTTP,
    ),
    ("bare Powertools SQS handler", "bare_lambda_sqs", None, FIRST_LAMBDA_SQS),
    (
        "functions.aws.worker_handler",
        "functions.aws.worker_handler",
        "bare Powertools SQS handler",
        FIRST_LAMBDA_SQS,
    ),
    ("bare azure-functions app", "bare_azure", None, FIRST_AZURE),
    ("function_app (functions/azure)", "function_app", "bare azure-functions app", FIRST_AZURE),
]

PROBE = """
import importlib, json, sys, time
t0 = time.perf_counter()
mod = importlib.import_module(sys.argv[1])
t1 = time.perf_counter()
{first}
t2 = time.perf_counter()
print(json.dumps({{"import": t1 - t0, "first": t2 - t1}}))
"""


def sample(module: str, first: str, paths: list[Path]) -> dict[str, float]:
    code = PROBE.format(first=textwrap.dedent(first))
    env = {
        "PYTHONPATH": ":".join(str(p) for p in paths),
        "PYTHONDONTWRITEBYTECODE": "0",
        "POWERTOOLS_METRICS_NAMESPACE": "Bench",
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(
        [sys.executable, "-c", code, module],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=True,
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="paddock-bench-") as tmp:
        bare = Path(tmp)
        for name, text in (
            ("bare_lambda_http", BARE_LAMBDA_HTTP),
            ("bare_lambda_sqs", BARE_LAMBDA_SQS),
            ("bare_azure", BARE_AZURE),
        ):
            (bare / f"{name}.py").write_text(text)
        paths = [ROOT, ROOT / "functions" / "azure", bare]
        for _, module, _, first in ROWS:  # warm the bytecode caches once
            sample(module, first, paths)
        samples: dict[str, list[dict[str, float]]] = {label: [] for label, *_ in ROWS}
        for _ in range(args.runs):
            for label, module, _, first in ROWS:
                samples[label].append(sample(module, first, paths))
    imports = {k: statistics.median(s["import"] for s in v) for k, v in samples.items()}
    firsts = {k: statistics.median(s["first"] for s in v) for k, v in samples.items()}
    print(f"cold import, fresh interpreter, median of {args.runs}\n")
    print(
        f"{'module':32} {'import ms':>9} {'vs bare':>8} {'1st req ms':>10} "
        f"{'import+1st':>10} {'vs bare':>8}"
    )
    worst = 0.0
    for label, _, baseline, _ in ROWS:
        total = imports[label] + firsts[label]
        ratio = total_ratio = ""
        if baseline is not None:
            value = imports[label] / imports[baseline]
            worst = max(worst, value)
            ratio = f"{value:.2f}x"
            total_ratio = f"{total / (imports[baseline] + firsts[baseline]):.2f}x"
        print(
            f"{label:32} {imports[label] * 1000:9.0f} {ratio:>8} "
            f"{firsts[label] * 1000:10.0f} {total * 1000:10.0f} {total_ratio:>8}"
        )
    print(
        f"\nworst import ratio {worst:.2f}x (target <= 1.30x). The handlers build core on "
        "their first request, so import+1st is the whole cold path."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
