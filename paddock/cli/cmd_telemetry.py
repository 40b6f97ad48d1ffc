"""Looking at runs after the fact: ``trace`` (the span tree) and ``costs`` (tokens and USD)."""

from __future__ import annotations

import argparse
import json
from datetime import timedelta

from core.domain import utcnow
from core.errors import ConfigError, NotFoundError
from paddock.cli.common import add_store_flag, home, open_store, trace_file


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    trace = sub.add_parser(
        "trace",
        help="show a run's trace as a tree: durations, decisions, "
        "tokens, cost, the cloud of each span",
    )
    trace.add_argument("run_id")
    trace.add_argument(
        "--file",
        default=None,
        help="JSON-lines span file (default: $PADDOCK_TRACE_FILE or $PADDOCK_HOME/traces.jsonl)",
    )
    trace.add_argument(
        "--no-reasoning", action="store_true", help="leave the model's reasoning out of the tree"
    )
    trace.add_argument("--json", action="store_true", help="print the spans as JSON")
    add_store_flag(trace)
    trace.set_defaults(handler=cmd_trace)

    costs = sub.add_parser("costs", help="tokens and USD per tenant, or per step of one run")
    costs.add_argument("run_id", nargs="?", help="one run: its cost per step and per model")
    costs.add_argument("--tenant", default=None, help="only this tenant's runs")
    costs.add_argument(
        "--days", type=float, default=None, help="only runs created in the last DAYS days"
    )
    costs.add_argument("--json", action="store_true")
    add_store_flag(costs)
    costs.set_defaults(handler=cmd_costs)


def cmd_trace(args: argparse.Namespace) -> int:
    from core.telemetry.exporters import read_spans
    from core.telemetry.render import render

    run = open_store(args.store).get_run(args.run_id, with_steps=False)
    if not run.traceparent:
        raise NotFoundError(f"run {run.id} has no trace")
    trace_id = run.traceparent.split("-")[1]
    path = args.file or trace_file()
    spans = read_spans(path, trace_id=trace_id)
    if not spans:
        raise NotFoundError(f"no spans of trace {trace_id} in {path} (home: {home()})")
    if args.json:
        print(json.dumps(spans, ensure_ascii=False, default=str))
        return 0
    print(f"trace {trace_id} of run {run.id} ({len(spans)} spans)")
    print(render(spans, reasoning=not args.no_reasoning))
    return 0


def cmd_costs(args: argparse.Namespace) -> int:
    from core.telemetry.cost import cost_breakdown, stored_runs, tenant_costs

    store = open_store(args.store)
    if args.run_id:
        run = store.get_run(args.run_id)
        report = cost_breakdown(run)
        if args.json:
            print(json.dumps({"run_id": run.id, "tenant": run.tenant, **report}))
            return 0
        print(f"run {run.id} (tenant {run.tenant})")
        for step in report["steps"]:
            print(
                f"  step {step['step']:>3}  {step['model']:<28} "
                f"{step['prompt_tokens']:>8} + {step['completion_tokens']:<8} "
                f"${step['cost_usd']:.6f}"
            )
        for model, usage in report["by_model"].items():
            print(
                f"  model {model:<30} {usage['total_tokens']:>9} tokens  ${usage['cost_usd']:.6f}"
            )
        total = report["total"]
        print(
            f"  total {total['prompt_tokens']} + {total['completion_tokens']} tokens  "
            f"${total['cost_usd']:.6f}"
        )
        return 0
    if args.days is not None and args.days <= 0:
        raise ConfigError("--days must be a positive number")
    since = utcnow() - timedelta(days=args.days) if args.days is not None else None
    tenants = tenant_costs(stored_runs(store, tenant=args.tenant, since=since))
    if args.json:
        print(json.dumps([t.to_dict() for t in tenants]))
        return 0
    if not tenants:
        print("no runs")
    for entry in tenants:
        print(
            f"{entry.tenant:<20} runs {entry.runs:>5}  tokens {entry.usage.prompt_tokens:>9}"
            f" + {entry.usage.completion_tokens:<9} ${entry.usage.cost_usd:.6f}"
        )
    return 0
