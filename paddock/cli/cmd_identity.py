"""``paddock identity explain RUN_ID``: what each step was granted, and why."""

from __future__ import annotations

import argparse
import json

from paddock.cli.common import add_store_flag, open_store


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    identity = sub.add_parser("identity", help="capability tokens and credentials of runs")
    isub = identity.add_subparsers(dest="identity_command", metavar="SUBCOMMAND")
    isub.required = True
    explain = isub.add_parser("explain", help="per step: what was granted and why")
    explain.add_argument("run_id")
    explain.add_argument("--json", action="store_true")
    add_store_flag(explain)
    explain.set_defaults(handler=cmd_explain)


def cmd_explain(args: argparse.Namespace) -> int:
    from core.identity.explain import explain, render

    run = open_store(args.store).get_run(args.run_id)
    report = explain(run)
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    else:
        print(render(report), end="")
    return 0
