"""Operating runs: ``approvals``, ``approve``, ``kill``, ``runs``."""

from __future__ import annotations

import argparse
import json
import sys

from core.domain import RunStatus
from core.orchestrator.outcome import run_unless_throttled
from core.orchestrator.summary import run_summary
from core.state.base import KILL_GLOBAL, kill_scope_tenant
from paddock.cli import cmd_telemetry
from paddock.cli.common import (
    APPROVE_MODES,
    add_store_flag,
    current_user,
    drive,
    finish,
    flush_telemetry,
    local_orchestrator,
    local_workflows,
    open_store,
    run_tracer,
)
from paddock.cli.render import LiveConsole, format_args


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    approvals = sub.add_parser("approvals", help="list approvals waiting for a human")
    asub = approvals.add_subparsers(dest="approvals_command", metavar="SUBCOMMAND")
    asub.required = True
    lst = asub.add_parser("list", help="pending approvals, newest first")
    lst.add_argument("--json", action="store_true")
    add_store_flag(lst)
    lst.set_defaults(handler=cmd_approvals_list)

    approve = sub.add_parser(
        "approve", help="approve (or --reject) one pending call, then continue the run"
    )
    approve.add_argument("run_id")
    approve.add_argument("approval_id")
    approve.add_argument("--reject", action="store_true")
    approve.add_argument("--comment", default=None)
    approve.add_argument(
        "--no-resume",
        action="store_true",
        help="record the decision only; do not continue the run here",
    )
    approve.add_argument("--json", action="store_true")
    add_store_flag(approve)
    approve.set_defaults(handler=cmd_approve)

    kill = sub.add_parser("kill", help="stop runs now: one run, a tenant's, or all")
    target = kill.add_mutually_exclusive_group(required=True)
    target.add_argument("run_id", nargs="?")
    target.add_argument("--all", action="store_true", help="raise the global kill flag")
    target.add_argument("--tenant", metavar="T")
    kill.add_argument("--reason", default="stopped by an operator")
    kill.add_argument("--clear", action="store_true", help="lower the flag instead")
    add_store_flag(kill)
    kill.set_defaults(handler=cmd_kill)

    runs = sub.add_parser("runs", help="list runs or show one")
    rsub = runs.add_subparsers(dest="runs_command", metavar="SUBCOMMAND")
    rsub.required = True
    rl = rsub.add_parser("list")
    rl.add_argument("--status", choices=[s.value for s in RunStatus])
    rl.add_argument("--tenant")
    rl.add_argument("--limit", type=int, default=20)
    rl.add_argument("--json", action="store_true")
    add_store_flag(rl)
    rl.set_defaults(handler=cmd_runs_list)
    rr = rsub.add_parser(
        "resume", help="continue a run from its last checkpoint (after a crash or Ctrl-C)"
    )
    rr.add_argument("run_id")
    rr.add_argument(
        "--approve",
        choices=APPROVE_MODES,
        default="ask",
        help="how to decide approvals the run reaches (default: ask)",
    )
    rr.add_argument(
        "--take-over",
        action="store_true",
        help="re-send calls another worker claimed without waiting for its lease "
        "(only when you know that worker is gone; writes keep their "
        "idempotency keys)",
    )
    rr.add_argument("--json", action="store_true")
    add_store_flag(rr)
    rr.set_defaults(handler=cmd_runs_resume)
    rs = rsub.add_parser("show")
    rs.add_argument("run_id")
    add_store_flag(rs)
    rs.set_defaults(handler=cmd_runs_show)
    cmd_telemetry.register(sub)


def cmd_approvals_list(args: argparse.Namespace) -> int:
    store = open_store(args.store)
    page = store.list_runs(status=RunStatus.AWAITING_APPROVAL, limit=100)
    pending = [(run, a) for run in page.runs for a in run.pending_approvals]
    pending.sort(key=lambda pair: pair[1].created_at, reverse=True)
    if args.json:
        print(
            json.dumps(
                [{"run_id": r.id, "goal": r.goal, **a.model_dump(mode="json")} for r, a in pending],
                ensure_ascii=False,
            )
        )
        return 0
    if not pending:
        print("no approvals pending")
    for run, a in pending:
        full = store.get_run(run.id)
        call = next((c for c in full.steps[a.step_index].calls if c.call_id == a.call_id), None)
        print(f"{a.id}  run {run.id}  {a.tool}({format_args(call.args) if call else ''})")
        print(f"    goal: {run.goal}")
        for reason in a.reasons:
            print(f"    - {reason}")
        print(f"    approve: paddock approve {run.id} {a.id}   reject: add --reject")
    return 0


def cmd_approve(args: argparse.Namespace) -> int:
    store = open_store(args.store)
    console = LiveConsole()
    orch = local_orchestrator(
        store=store,
        observer=console,
        tracing=run_tracer(),
        workflows=local_workflows(runs=[store.get_run(args.run_id, with_steps=False)]),
    )
    approver = current_user()
    run = orch.decide(
        args.run_id,
        args.approval_id,
        approver=approver,
        approve=not args.reject,
        comment=args.comment,
    )
    console.approval_decided(args.approval_id, not args.reject, approver)
    if not args.no_resume:
        run = run_unless_throttled(orch.advance(run.id))
    from paddock.cli.cmd_run import PLANNER_LABELS

    return finish(
        run, as_json=args.json, planner_label=PLANNER_LABELS.get(run.planner, run.planner)
    )


def cmd_runs_resume(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from paddock.cli.cmd_run import PLANNER_LABELS

    store = open_store(args.store)
    run = store.get_run(args.run_id)
    out = sys.stderr if args.json else sys.stdout
    console = LiveConsole(out)
    orch = local_orchestrator(
        store=store,
        observer=console,
        tracing=run_tracer(),
        workflows=local_workflows(runs=[run]),
    )
    if args.take_over:
        orch.claim_lease = timedelta(0)
    label = PLANNER_LABELS.get(run.planner, run.planner)
    print(f"resuming {run.id} at step {run.step_count + 1} ({run.status.value})", file=out)
    before = run.version
    run = drive(orch, run, approve=args.approve, console=console)
    if run.status is RunStatus.RUNNING and run.version == before:
        print(
            "nothing moved: another worker holds a claim on this run's calls; it is resumed "
            f"after the lease ({orch.claim_lease.total_seconds():.0f} s) or now with "
            "--take-over",
            file=sys.stderr,
        )
    return finish(run, as_json=args.json, planner_label=label)


def cmd_kill(args: argparse.Namespace) -> int:
    store = open_store(args.store)
    if args.run_id:
        if args.clear:
            from core.state.base import kill_scope_run

            store.clear_kill(kill_scope_run(args.run_id))
            print(f"kill flag lowered for run {args.run_id}")
            return 0
        orch = local_orchestrator(store=store, tracing=run_tracer())
        run = orch.kill(args.run_id, reason=args.reason)
        flush_telemetry()
        print(f"run {run.id}: {run.status.value} ({run.reason})")
        return 0
    scope = KILL_GLOBAL if args.all else kill_scope_tenant(args.tenant)
    if args.clear:
        store.clear_kill(scope)
        print(f"kill flag lowered: {scope}")
    else:
        store.set_kill(scope, args.reason)
        print(f"kill flag raised: {scope} — every covered run stops before its next step")
    return 0


def cmd_runs_list(args: argparse.Namespace) -> int:
    store = open_store(args.store)
    status = RunStatus(args.status) if args.status else None
    page = store.list_runs(status=status, tenant=args.tenant, limit=args.limit)
    if args.json:
        print(json.dumps([r.head() for r in page.runs], ensure_ascii=False, default=str))
        return 0
    for run in page.runs:
        print(
            f"{run.id}  {run.status.value:18} {run.tenant:10} steps {run.step_count:3}  "
            f"${run.usage.cost_usd:.4f}  {run.goal[:60]}"
        )
    if not page.runs:
        print("no runs")
    return 0


def cmd_runs_show(args: argparse.Namespace) -> int:
    store = open_store(args.store)
    run = store.get_run(args.run_id)
    print(json.dumps(run_summary(run), indent=2, ensure_ascii=False, default=str))
    return 0
