"""Per-step store cost at step 10 and step 1,000 of one run, on every backend (issue 5).

Each step is one ``checkpoint`` writing one new step record and the head. Measured per
checkpoint: round trips to the service, request bytes on the wire, and wall milliseconds
(averaged over a few steps around 10 and 1,000). Target: bytes/step at 1,000 <= 1.1x step 10.

Usage: .venv/bin/python bench/store_cost.py [--steps 1000] [--window 5]
Uses PADDOCK_AWS_ENDPOINT_URL / PADDOCK_AZURE_CONNECTION_STRING when set (scripts/emulators),
otherwise starts the emulators itself and stops them afterwards.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.domain import CallRecord, CallStatus, Run, RunStatus, Step, StepStatus, Usage
from core.state.base import RunStore

REGION = "eu-central-1"


@dataclass
class Meter:
    """Round trips and request bytes seen by a client's HTTP layer."""

    calls: int = 0
    sent: int = 0
    samples: dict[int, tuple[int, int, float]] = field(default_factory=dict)

    def record(self, body: Any) -> None:
        self.calls += 1
        if isinstance(body, str):
            body = body.encode()
        self.sent += len(body or b"")


def make_step(i: int) -> Step:
    call = CallRecord(
        call_id=f"call-{i}",
        tool="erp.get_stock",
        cloud="azure",
        args={"sku": f"SKU-{i % 50:04d}", "warehouse": "FRA-1"},
        status=CallStatus.DONE,
        executed=True,
        status_code=200,
        result={
            "sku": f"SKU-{i % 50:04d}",
            "on_hand": i % 17,
            "reserved": 2,
            "lines": [{"lot": f"L{n}", "qty": n} for n in range(12)],
        },
    )
    return Step(
        index=i,
        status=StepStatus.DONE,
        planner="rules",
        reasoning="Check stock before ordering; the supplier needs a firm quantity.",
        calls=[call],
        usage=Usage(prompt_tokens=900, completion_tokens=120),
    )


def measure(
    store: RunStore, meter: Meter | None, steps: int, window: int, marks: tuple[int, ...]
) -> dict[int, tuple[float, float, float]]:
    run = store.create_run(
        Run(id=f"bench-{uuid.uuid4().hex[:8]}", goal="restock", status=RunStatus.RUNNING)
    )
    wanted = {m + k for m in marks for k in range(-(window // 2), window - window // 2)}
    raw: dict[int, tuple[int, int, float]] = {}
    for i in range(1, steps + window):
        step = make_step(i - 1)
        before = (meter.calls, meter.sent) if meter else (0, 0)
        started = time.perf_counter()
        run = store.checkpoint(
            run.model_copy(update={"step_count": i, "usage": run.usage.add(step.usage)}),
            expected_version=run.version,
            steps=[step],
        )
        ms = (time.perf_counter() - started) * 1000
        if i in wanted:
            if meter:
                raw[i] = (meter.calls - before[0], meter.sent - before[1], ms)
            else:  # memory, sqlite: what it stores, no wire
                size = len(run.model_dump_json(exclude={"steps"})) + len(step.model_dump_json())
                raw[i] = (0, size, ms)
    out = {}
    for m in marks:
        picks = [raw[k] for k in sorted(raw) if abs(k - m) <= window // 2]
        out[m] = tuple(sum(p[j] for p in picks) / len(picks) for j in range(3))
    return out  # type: ignore[return-value]


def dynamodb(endpoint: str) -> tuple[RunStore, Meter]:
    import boto3

    from core.state.dynamodb import DynamoDBStore

    meter = Meter()
    kw = {
        "endpoint_url": endpoint,
        "region_name": REGION,
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }
    client = boto3.client("dynamodb", **kw)  # type: ignore[call-overload]
    client.meta.events.register(
        "before-send.dynamodb", lambda request, **_: meter.record(request.body)
    )
    store = DynamoDBStore(client, f"bench{uuid.uuid4().hex[:8]}")
    store.create_table()
    meter.calls = meter.sent = 0
    return store, meter


def table(conn: str) -> tuple[RunStore, Meter]:
    import requests
    from azure.core.pipeline.transport import RequestsTransport
    from azure.data.tables import TableServiceClient

    from core.state.table import TableStore

    meter = Meter()
    session = requests.Session()
    session.hooks["response"].append(lambda resp, **_: meter.record(resp.request.body))
    service = TableServiceClient.from_connection_string(
        conn, transport=RequestsTransport(session=session, session_owner=False)
    )
    store = TableStore(service, f"bench{uuid.uuid4().hex[:8]}")
    store.create_table()
    meter.calls = meter.sent = 0
    return store, meter


@contextmanager
def emulators() -> Iterator[dict[str, str]]:
    given = {
        k: os.environ.get(k, "")
        for k in ("PADDOCK_AWS_ENDPOINT_URL", "PADDOCK_AZURE_CONNECTION_STRING")
    }
    if all(given.values()):
        yield given
        return
    spec = importlib.util.spec_from_file_location("_emu", ROOT / "scripts" / "_emulators.py")
    assert spec is not None and spec.loader is not None
    helper = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(helper)
    state = Path(tempfile.mkdtemp(prefix="paddock-bench-"))
    try:
        yield helper.start(state)
    finally:
        helper.stop(state, quiet=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--window", type=int, default=5)
    args = parser.parse_args()
    marks = (10, args.steps)
    from core.state.memory import MemoryStore
    from core.state.sqlite import SqliteStore

    with emulators() as env, tempfile.TemporaryDirectory() as tmp:
        backends: list[tuple[str, Callable[[], tuple[RunStore, Meter | None]]]] = [
            ("memory", lambda: (MemoryStore(), None)),
            ("sqlite", lambda: (SqliteStore(Path(tmp) / "bench.db"), None)),
            ("dynamodb (moto)", lambda: dynamodb(env["PADDOCK_AWS_ENDPOINT_URL"])),
            ("table (azurite)", lambda: table(env["PADDOCK_AZURE_CONNECTION_STRING"])),
        ]
        print(
            f"{'backend':<17} {'step':>5} {'round trips':>11} {'bytes':>8} {'ms':>7}"
            f"   bytes ratio {marks[1]}/{marks[0]}"
        )
        worst = 0.0
        for name, build in backends:
            store, meter = build()
            result = measure(store, meter, args.steps, args.window, marks)
            ratio = result[marks[1]][1] / result[marks[0]][1]
            worst = max(worst, ratio)
            for m in marks:
                calls, sent, ms = result[m]
                tail = f"   {ratio:.3f}" if m == marks[1] else ""
                print(f"{name:<17} {m:>5} {calls:>11.1f} {sent:>8.0f} {ms:>7.2f}{tail}")
    print(
        f"target bytes/step at {marks[1]} <= 1.1x step {marks[0]}: "
        f"{'met' if worst <= 1.1 else 'MISSED'} (worst {worst:.3f})"
    )
    return 0 if worst <= 1.1 else 1


if __name__ == "__main__":
    sys.exit(main())
