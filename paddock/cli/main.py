"""Argument parsing and dispatch for ``paddock``. Each command lives in its own module."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from core.errors import PaddockError


def build_parser() -> argparse.ArgumentParser:
    from paddock.cli import cmd_agents, cmd_bundle, cmd_catalog, cmd_identity, cmd_ops, cmd_run

    parser = argparse.ArgumentParser(
        prog="paddock", description="Fenced LLM agents for business workflows across AWS and Azure."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    cmd_run.register(sub)
    cmd_bundle.register(sub)
    cmd_catalog.register(sub)
    cmd_ops.register(sub)
    cmd_identity.register(sub)
    cmd_agents.register(sub)
    from paddock.cli.cmd_mcp import register as register_mcp

    register_mcp(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.handler(args)
        return code
    except PaddockError as exc:
        print(f"paddock: error: {exc.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("paddock: interrupted", file=sys.stderr)
        return 130
