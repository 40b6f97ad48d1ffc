"""``paddock catalog diff`` and ``paddock catalog refresh``: contract changes between versions."""

from __future__ import annotations

import argparse
import json
from datetime import date

from core.drift.changes import Change, Level
from core.errors import ConfigError

EXIT_OK = 0
EXIT_BREAKING = 1
"""Something breaking was found (``diff``) or is held for review (``refresh``)."""
EXIT_ERROR = 2
"""Bad input, or a spec that could not be read."""

_LABEL = {Level.BREAKING: "BREAKING", Level.WARNING: "warning", Level.INFO: "info"}


def register(csub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    diff = csub.add_parser(
        "diff", help="compare two versions of a spec; exit 1 when a change breaks clients"
    )
    diff.add_argument("old", metavar="OLD", help="the version clients use (file or URL)")
    diff.add_argument("new", metavar="NEW", help="the new version (file or URL)")
    diff.add_argument(
        "--json",
        action="store_true",
        help="print a JSON list of {operation, location, kind, breaking, message}",
    )
    diff.add_argument(
        "--today",
        metavar="YYYY-MM-DD",
        help="the date x-sunset dates are compared with (default: today)",
    )
    diff.set_defaults(handler=cmd_diff)
    refresh = csub.add_parser(
        "refresh", help="re-read stored specs; apply safe changes, hold breaking ones"
    )
    refresh.add_argument(
        "sources", nargs="*", metavar="SOURCE", help="only these stored sources (default: all)"
    )
    refresh.add_argument(
        "--accept", action="store_true", help="take the breaking changes too (after review)"
    )
    refresh.add_argument("--json", action="store_true", help="one JSON list of outcomes")
    refresh.add_argument(
        "--today",
        metavar="YYYY-MM-DD",
        help="the date x-sunset dates are compared with (default: today)",
    )
    refresh.set_defaults(handler=cmd_refresh)


def parse_day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"--today must be a date like 2026-01-31, not {text!r}") from None


def print_changes(changes: list[Change]) -> None:
    for change in changes:
        print(f"{_LABEL[change.level]:8} {change.kind:40} {change.operation}")
        print(f"         at {change.location}: {change.message}")
        if change.hint:
            print(f"         hint: {change.hint}")


def verdict_line(changes: list[Change]) -> str:
    counts = {level: sum(1 for c in changes if c.level is level) for level in Level}
    return (
        f"{len(changes)} change(s): {counts[Level.BREAKING]} breaking, "
        f"{counts[Level.WARNING]} potentially breaking, {counts[Level.INFO]} non-breaking"
    )


def cmd_diff(args: argparse.Namespace) -> int:
    from core.drift.specs import diff_specs

    changes = diff_specs(args.old, args.new, today=parse_day(args.today))
    if args.json:
        print(json.dumps([c.as_json() for c in changes], ensure_ascii=False))
    else:
        print_changes(changes)
        print(("\n" if changes else "") + verdict_line(changes))
    return EXIT_BREAKING if any(c.breaking for c in changes) else EXIT_OK


def cmd_refresh(args: argparse.Namespace) -> int:
    from paddock.cli.cmd_catalog import absolute, registry
    from paddock.local.spec_registry import json_outcome

    sources = [absolute(s) for s in args.sources] or None
    outcomes = registry().refresh(sources=sources, accept=args.accept, today=parse_day(args.today))
    if args.json:
        print(json.dumps([json_outcome(o) for o in outcomes], ensure_ascii=False))
    elif not outcomes:
        print(
            "nothing to refresh: the versioned catalog holds no specs "
            "(add one with `paddock catalog import SPEC --save`)"
        )
    for outcome in outcomes if not args.json else ():
        new = outcome.new or outcome.old
        print(
            f"{outcome.status.upper():9} {new.title} {outcome.old.version} "
            f"(sha256:{outcome.old.sha256[:8]}) -> {new.version} (sha256:{new.sha256[:8]})"
            f"  {outcome.source}"
        )
        if outcome.error:
            print(f"          error: {outcome.error}")
        shown = outcome.breaking if outcome.status == "held" else outcome.changes
        print_changes(shown)
        if outcome.status == "held":
            print(f"          held for review: paddock catalog refresh --accept {outcome.source}")
    if any(o.status == "error" for o in outcomes):
        return EXIT_ERROR
    return EXIT_BREAKING if any(o.status == "held" for o in outcomes) else EXIT_OK
