"""Argument parsing and dispatch for ``paddock``. Each command lives in its own module."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from importlib import metadata

from core.errors import PaddockError


def build_parser() -> argparse.ArgumentParser:
    from paddock.cli import cmd_agents, cmd_bundle, cmd_catalog, cmd_identity, cmd_ops, cmd_run

    parser = argparse.ArgumentParser(
        prog="paddock", description="Fenced LLM agents for business workflows across AWS and Azure."
    )
    parser.add_argument("--version", action="version", version=f"paddock {_version()}")
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


BROKEN_PIPE = 141
"""Exit code when the reader of stdout went away (``paddock runs show X | head``), as a shell
reports a process ended by SIGPIPE (128 + 13)."""


def _version() -> str:
    try:
        return metadata.version("paddock")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.handler(args)
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
        return code
    except PaddockError as exc:
        print(f"paddock: error: {exc.message}", file=sys.stderr)
        return 2
    except (RecursionError, MemoryError) as exc:  # hostile input past what the caps caught
        print(
            f"paddock: error: the input is too deeply nested or too large to process "
            f"({type(exc).__name__})",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        print("paddock: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        _silence_stdout()
        return BROKEN_PIPE


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    finally:
        os.close(devnull)
