"""``paddock bundle validate|show``: check and inspect a workflow bundle folder."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from core.bundles import check_bundle, describe


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    bundle = sub.add_parser("bundle", help="check and inspect a workflow bundle (docs/bundles.md)")
    commands = bundle.add_subparsers(dest="bundle_command", metavar="COMMAND")
    commands.required = True
    validate = commands.add_parser(
        "validate", help="check everything in a bundle; exit 1 listing every problem"
    )
    validate.add_argument("folder", metavar="DIR")
    validate.add_argument("--json", action="store_true", help="one JSON object on stdout")
    validate.set_defaults(handler=cmd_validate)
    show = commands.add_parser(
        "show", help="each tool after overlays, the rules, the agents, and what to look at"
    )
    show.add_argument("folder", metavar="DIR")
    show.add_argument("--json", action="store_true", help="one JSON object on stdout")
    show.set_defaults(handler=cmd_show)


def cmd_validate(args: argparse.Namespace) -> int:
    workflow, problems = check_bundle(args.folder)
    if args.json:
        body: dict[str, Any] = {
            "valid": not problems,
            "workflow": workflow.name if workflow else None,
            "version": workflow.version if workflow else None,
            "problems": [p.as_json() for p in problems],
        }
        print(json.dumps(body))
    elif problems:
        for problem in problems:
            print(problem)
        print(f"{len(problems)} problem(s) in {args.folder}", file=sys.stderr)
    elif workflow is not None:
        print(f"{args.folder}: workflow {workflow.name} (version {workflow.version}) is valid")
    return 1 if problems else 0


def cmd_show(args: argparse.Namespace) -> int:
    workflow, problems = check_bundle(args.folder)
    if problems or workflow is None:
        for problem in problems:
            print(problem, file=sys.stderr)
        print(f"paddock: error: {args.folder} is not a valid bundle", file=sys.stderr)
        return 2
    info = describe(workflow)
    if args.json:
        print(json.dumps(info))
        return 0
    _print(info)
    return 0


def _print(info: dict[str, Any]) -> None:
    print(f"workflow {info['name']}  version {info['version']}")
    print(f"goal:     {info['goal']}")
    grant = info["grant"]
    print(
        f"grant:    {', '.join(grant['side_effects'])}"
        + (f" (tools: {', '.join(grant['tools'])})" if grant["tools"] else "")
    )
    if info["agent"]:
        print(f"starts as agent {info['agent']}")
    print("\ntools (after overlays):")
    for t in info["tools"]:
        vendor = "  [vendor text]" if t["vendor_text"] else ""
        print(
            f"  {t['name']:<32} {t['cloud']:<8} {t['side_effect']:<11} {t['trust']:<9} "
            f"auth {t['auth']}{vendor}"
        )
    if info["rules"]:
        print("\nrules:")
        for r in info["rules"]:
            print(f"  {r['id']:<32} {r['effect']:<16} {r['reason']}")
    if info["agents"]:
        print("\nagents:")
        for a in info["agents"]:
            print(f"  {a['name']:<24} {a['home_cloud']:<6} tools: {', '.join(a['tools'])}")
    labels = info["unconfirmed_vendor_labels"]
    if labels:
        print("\nvendor labels the overlays did not confirm (applied only where stricter):")
        for label in labels:
            print(f"  {label['where']}: {label['label']}: {label['value']}")
    for warning in info["warnings"]:
        print(f"warning: {warning}")
