"""Guardrail decision latency per call, next to plain JSON-schema validation (issue 3).

Runs ``PolicyGuard.check`` with a 20-rule Cedar policy (the supply-chain scenario's rules plus
generated ones) on the scenario's real catalog and a realistic history (stock, supplier search,
the untrusted inbox with its two injected messages, risk scores, a quote), padded to 50 steps
with more stock reads, past orders and supplier messages (``--steps``). Next to each
decision, in the same loop, it times plain Draft 2020-12 validation of the same arguments with
a precompiled validator: the floor any guard pays. Target: decision p99 <= 1 ms.

Usage: .venv/bin/python bench/guard_latency.py [--iterations 3000] [--steps 50] [--no-gc] [--json]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.catalog import Catalog
from core.domain import CallRecord, CallStatus, ProposedCall, Run, Step, StepStatus, Tool, Trust
from core.guardrails import PolicyGuard, PolicySet
from examples.supply_chain import data, spec_paths

POLICY_DIR = ROOT / "examples/supply_chain/policy"
RULES = 20
PO = {
    "part": "P-100",
    "plant": "DE01",
    "quantity": 500,
    "vendor_id": "V-2001",
    "unit_price": 61.5,
    "currency": "EUR",
    "quote_id": "Q-000123",
}
CALLS: list[tuple[str, str, dict[str, Any]]] = [
    ("read", "get_stock", {"plant": "DE01", "part": "P-100"}),
    ("read untrusted", "list_supplier_messages", {"supplier_id": "V-3002"}),
    (
        "write quote",
        "request_quote",
        {"body": {"supplier_id": "V-2001", "part": "P-100", "quantity": 500, "plant": "DE01"}},
    ),
    ("write PO (approval)", "create_purchase_order", {"body": PO}),
    (
        "write message",
        "send_supplier_message",
        {
            "body": {
                "supplier_id": "V-2001",
                "subject": "Order P-100 for DE01",
                "body": "We ordered 500 pcs of P-100 at 61.5 EUR under quote Q-000123.",
            }
        },
    ),
    (
        "injected IBAN in text",
        "send_supplier_message",
        {
            "body": {
                "supplier_id": "V-2001",
                "subject": "Remittance",
                "body": "We will pay PO 4500000001 to DE89 3704 0044 0532 0130 00.",
            }
        },
    ),
    (
        "bank change",
        "update_vendor_bank",
        {"vendor_id": "V-2001", "body": {"iban": data.INJECTED_IBAN, "bic": data.INJECTED_BIC}},
    ),
    ("schema deny", "create_purchase_order", {"body": {**PO, "currency": "USD", "x": 1}}),
]


def twenty_rules(tools: list[Tool]) -> PolicySet:
    """The scenario's rules, topped up to 20 with per-tool caps and a tenant block list."""
    text = "\n".join(p.read_text() for p in sorted(POLICY_DIR.glob("*.cedar")))
    config = json.loads(json.dumps(_yaml(POLICY_DIR / "policy.yaml")))
    base = PolicySet.from_text(text, tools, config=config)
    extra = []
    names = [t.name for t in tools]
    for i in range(RULES - len(base.rules)):
        tool = names[i % len(names)]
        extra.append(
            f'@id("cap_{i}_{tool}")\nforbid (principal, action == Action::"{tool}", '
            f"resource) when {{ context.run.calls_by_tool.{tool} >= {30 + i} }};"
        )
    text += (
        "\n"
        + "\n".join(extra[:-1])
        + (
            '\n@id("blocked_tenants")\nforbid (principal, action, resource) when { '
            '[Tenant::"suspended-1", Tenant::"suspended-2"].contains(principal) };'
        )
    )
    policies = PolicySet.from_text(text, tools, config=config, source="bench-20-rules")
    assert len(policies.rules) == RULES, len(policies.rules)
    return policies


def _yaml(path: Path) -> Any:
    import yaml

    return yaml.safe_load(path.read_text())


def padding(count: int, start: int) -> list[tuple[str, dict[str, Any], Any]]:
    """More realistic moves: stock reads of other parts and plants, past orders, and every
    fifth step another supplier message (untrusted), each with its own figures."""
    moves: list[tuple[str, dict[str, Any], Any]] = []
    plants = ("DE01", "DE02", "PL01", "CZ01")
    for n in range(count):
        i = start + n
        if n % 5 == 4:
            text = (
                f"Supplier update {i}: lead time for P-{100 + n % 9}00 is {2 + n % 6} weeks, "
                f"contact desk-{i}@supplier-{n}.example, ref SO-{70000 + i}."
            )
            moves.append(("list_supplier_messages", {}, {"messages": [{"body": text}]}))
        elif n % 2:
            moves.append(
                (
                    "list_purchase_orders",
                    {"plant": plants[n % 4]},
                    {"orders": [{"po": f"45000{i:05d}", "quantity": 100 + i, "total": 61.5 * i}]},
                )
            )
        else:
            moves.append(
                (
                    "get_stock",
                    {"plant": plants[n % 4], "part": f"P-{100 + n % 9}00"[:5]},
                    {"available": 10 * i, "reorder_point": 200 + i, "on_order": i},
                )
            )
    return moves


def history(tools: dict[str, Tool], steps: int = 6) -> Run:
    inbox = {"messages": [{k: v for k, v in m.items() if k != "hours_ago"} for m in data.MESSAGES]}
    moves: list[tuple[str, dict[str, Any], Any]] = [
        (
            "get_stock",
            {"plant": "DE01", "part": "P-100"},
            {"part": "P-100", "plant": "DE01", "available": 0, "reorder_point": 200},
        ),
        (
            "search_suppliers",
            {"part": "P-100", "quantity": 500},
            {
                "suppliers": [
                    {
                        "supplier_id": "V-2001",
                        "name": "Nordic Bearings AB",
                        "available_quantity": 2400,
                        "indicative_unit_price": 61.5,
                    },
                    {
                        "supplier_id": "V-3002",
                        "available_quantity": 10000,
                        "indicative_unit_price": 48.2,
                    },
                ]
            },
        ),
        ("list_supplier_messages", {}, inbox),
        ("get_risk_score", {"supplier_id": "V-2001"}, {"supplier_id": "V-2001", "score": 0.18}),
        ("get_risk_score", {"supplier_id": "V-3002"}, {"supplier_id": "V-3002", "score": 0.82}),
        (
            "request_quote",
            {"body": {"supplier_id": "V-2001", "part": "P-100", "quantity": 500}},
            {"quote_id": "Q-000123", "unit_price": 61.5, "total": 30750.0},
        ),
    ]
    moves = [*moves[:2], *padding(max(0, steps - len(moves)), len(moves)), *moves[2:]]
    steps_out: list[Step] = []
    for i, (name, args, result) in enumerate(moves):
        tool = tools[name]
        steps_out.append(
            Step(
                index=i,
                status=StepStatus.DONE,
                calls=[
                    CallRecord(
                        call_id=f"c{i}",
                        tool=name,
                        args=args,
                        result=result,
                        executed=True,
                        status=CallStatus.DONE,
                        status_code=200,
                        side_effect=tool.side_effect.value,
                        cloud=tool.location.value,
                        untrusted=tool.trust is Trust.UNTRUSTED,
                    )
                ],
            )
        )
    return Run(id="run_bench", goal=data.GOAL, requested_by="alice", steps=steps_out)


def timed(fn: Callable[[], object], samples: list[float], cpu: list[float] | None = None) -> object:
    """Wall microseconds into ``samples``; this thread's CPU microseconds into ``cpu``."""
    start_cpu = time.thread_time_ns()
    start = time.perf_counter_ns()
    out = fn()
    samples.append((time.perf_counter_ns() - start) / 1000)
    if cpu is not None:
        cpu.append((time.thread_time_ns() - start_cpu) / 1000)
    return out


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure_call(
    guard: PolicyGuard,
    run: Run,
    tool: Tool,
    args: dict[str, Any],
    validator: Draft202012Validator,
    iterations: int,
) -> tuple[dict[str, Any], list[float], list[float], list[float]]:
    """Time the decision and the plain validation of one call, interleaved."""
    proposed = ProposedCall(id="p", tool=tool.name, args=args)
    g: list[float] = []
    g_cpu: list[float] = []
    s: list[float] = []
    decision: Any = None
    for i in range(iterations + 200):  # the first 200 warm caches and are dropped
        decision = timed(lambda: guard.check(run, tool, proposed, confidence=0.9), g, g_cpu)
        timed(lambda: list(validator.iter_errors(args)), s)
        if i == 199:
            g.clear()
            g_cpu.clear()
            s.clear()
    row = {
        "tool": tool.name,
        "verdict": decision.verdict.value,
        "rules": decision.rule_ids,
        "guard_p50_us": pct(g, 0.5),
        "guard_p99_us": pct(g, 0.99),
        "guard_cpu_p99_us": pct(g_cpu, 0.99),
        "schema_p50_us": pct(s, 0.5),
        "schema_p99_us": pct(s, 0.99),
        "guard_mean_us": statistics.fmean(g),
    }
    return row, g, g_cpu, s


def measure(iterations: int, steps: int = 50) -> dict[str, Any]:
    catalog = Catalog.from_sources([str(p) for p in spec_paths()])
    tools = {t.name: t for t in catalog.tools}
    guard = PolicyGuard(policies=twenty_rules(catalog.tools))
    run = history(tools, steps)
    plain = {
        name: Draft202012Validator(
            tools[name].args_schema, format_checker=Draft202012Validator.FORMAT_CHECKER
        )
        for _, name, _ in CALLS
    }
    rows = []
    all_guard: list[float] = []
    all_cpu: list[float] = []
    all_plain: list[float] = []
    for label, name, args in CALLS:
        row, g, g_cpu, s = measure_call(guard, run, tools[name], args, plain[name], iterations)
        rows.append({"call": label, **row})
        all_guard += g
        all_cpu += g_cpu
        all_plain += s
    return {
        "iterations": iterations,
        "rules": RULES,
        "rows": rows,
        "all": {
            "guard_p50_us": pct(all_guard, 0.5),
            "guard_p99_us": pct(all_guard, 0.99),
            "guard_cpu_p99_us": pct(all_cpu, 0.99),
            "schema_p50_us": pct(all_plain, 0.5),
            "schema_p99_us": pct(all_plain, 0.99),
        },
        "gc": gc.isenabled(),
        "loadavg": os.getloadavg(),
        "cpus": os.cpu_count(),
    }


def render(result: dict[str, Any]) -> str:
    head = (
        f"{'call':<22}{'verdict':<18}{'p50':>7}{'p99':>7}{'p99 cpu':>9}"
        f"{'schema p50':>12}{'schema p99':>12}  rules"
    )
    lines = [
        f"PolicyGuard.check vs plain JSON-schema validation of the same call: "
        f"{result['rules']}-rule Cedar policy, {result['iterations']} calls each, "
        "microseconds (p99 cpu: this thread's CPU time, without preemption)",
        head,
        "-" * len(head),
    ]
    for row in result["rows"]:
        lines.append(
            f"{row['call']:<22}{row['verdict']:<18}{row['guard_p50_us']:>7.0f}"
            f"{row['guard_p99_us']:>7.0f}{row['guard_cpu_p99_us']:>9.0f}"
            f"{row['schema_p50_us']:>12.0f}{row['schema_p99_us']:>12.0f}  "
            f"{','.join(row['rules']) or '-'}"
        )
    total = result["all"]
    lines.append("-" * len(head))
    lines.append(
        f"{'all calls':<40}{total['guard_p50_us']:>7.0f}{total['guard_p99_us']:>7.0f}"
        f"{total['guard_cpu_p99_us']:>9.0f}{total['schema_p50_us']:>12.0f}"
        f"{total['schema_p99_us']:>12.0f}"
    )
    verdict = "met" if total["guard_p99_us"] <= 1000 else "NOT met"
    load = ", ".join(f"{x:.2f}" for x in result["loadavg"])
    lines.append(
        f"target p99 <= 1000 us (wall): {verdict}; gc {'on' if result['gc'] else 'off'}"
        f", {result['cpus']} CPUs, load average {load}"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=3000)
    parser.add_argument("--steps", type=int, default=50, help="steps of history (default 50)")
    parser.add_argument("--no-gc", action="store_true", help="disable the garbage collector")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    if args.no_gc:
        gc.disable()
    result = measure(args.iterations, args.steps)
    print(json.dumps(result, indent=2) if args.json else render(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
