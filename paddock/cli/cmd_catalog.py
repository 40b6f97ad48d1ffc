"""``paddock catalog ...``: import, diff and refresh API specs."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.catalog.export import short_description
from core.domain import Binding, HttpBinding, Tool
from core.errors import ConfigError
from paddock.cli.render import short

if TYPE_CHECKING:
    from paddock.local.spec_registry import SpecRegistry

DESCRIPTION_LIMIT = 200
"""Characters of each tool's description in ``catalog import --json``."""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    catalog = sub.add_parser("catalog", help="import and inspect API specs")
    csub = catalog.add_subparsers(dest="catalog_command", metavar="SUBCOMMAND")
    csub.required = True
    imp = csub.add_parser("import", help="list the tools an OpenAPI/Swagger spec yields")
    imp.add_argument("specs", nargs="+", metavar="SPEC", help="file or URL (JSON or YAML)")
    imp.add_argument(
        "--json", action="store_true", help="one JSON object listing every tool compactly"
    )
    imp.add_argument(
        "--save",
        action="store_true",
        help="also store each spec (version, hash, import time) in the "
        "versioned catalog under $PADDOCK_HOME/catalog",
    )
    imp.add_argument(
        "--base-url", metavar="URL", help="with --save and one SPEC: where that API lives"
    )
    imp.add_argument(
        "--overlay",
        action="append",
        default=[],
        metavar="FILE",
        help="an OpenAPI Overlay 1.0 document applied to every SPEC (repeatable; not with --save)",
    )
    imp.set_defaults(handler=cmd_import)
    ls = csub.add_parser("list", help="the specs in the versioned catalog")
    ls.add_argument("--json", action="store_true", help="one JSON list of stored specs")
    ls.set_defaults(handler=cmd_list)
    from paddock.cli.cmd_drift import register as register_drift

    register_drift(csub)


def tool_summary(tool: Tool) -> dict[str, Any]:
    """A bounded description of a tool: no schemas, response status codes only. HTTP tools
    also show their method, path and parameters."""
    return {
        "name": tool.name,
        "binding": tool.binding.kind,
        "operation_id": tool.binding.operation,
        **_wire_summary(tool.binding),
        "description": short_description(tool.description, DESCRIPTION_LIMIT),
        "location": tool.location.value,
        "side_effect": tool.side_effect.value,
        **({"side_effect_hint": tool.side_effect_hint.value} if tool.side_effect_hint else {}),
        "trust": tool.trust.value,
        "auth": tool.auth.scheme,
        "deprecated": tool.deprecated,
        "drift_mode": tool.drift_mode,
        "responses": sorted(tool.responses),
        "spec": (
            {"title": tool.spec.title, "version": tool.spec.version, "sha256": tool.spec.sha256}
            if tool.spec
            else None
        ),
        "warnings": len(tool.warnings),
    }


def _wire_summary(binding: Binding) -> dict[str, Any]:
    if not isinstance(binding, HttpBinding):
        return {}
    return {
        "method": binding.method,
        "path": binding.path,
        "params": [
            {"name": p.name, "in": p.location.value, "required": p.required} for p in binding.params
        ],
    }


def _where(binding: Binding) -> str:
    """The listing's method and path columns (the label for tools of other bindings)."""
    if isinstance(binding, HttpBinding):
        return f"{binding.method:6} {binding.path:40}"
    return f"{binding.label:47}"


def registry() -> SpecRegistry:
    from paddock.cli.common import home
    from paddock.local.spec_registry import SpecRegistry

    return SpecRegistry(home() / "catalog")


def absolute(source: str) -> str:
    """URLs and MCP sources as given, files as absolute paths (so a refresh works from
    anywhere)."""
    if "://" in source or source.startswith("mcp+"):
        return source
    return str(Path(source).resolve())


def cmd_import(args: argparse.Namespace) -> int:
    from core.catalog import Catalog

    if args.base_url and (not args.save or len(args.specs) != 1):
        raise ConfigError("--base-url needs --save and exactly one SPEC")
    if args.overlay and args.save:
        raise ConfigError("--overlay cannot be combined with --save (the catalog stores specs)")
    sources = [absolute(s) for s in args.specs] if args.save else list(args.specs)
    overlays = [_overlay(o) for o in args.overlay]
    catalog = Catalog.from_sources(sources, overlays=overlays)
    if args.save:
        store = registry()
        for source in sources:
            entry = store.add(source, base_url=args.base_url)
            latest = entry.latest
            print(
                f"stored {latest.title} {latest.version} sha256:{latest.sha256[:12]} from {source}",
                file=sys.stderr,
            )
    if args.json:
        print(
            json.dumps(
                {
                    "tools": [tool_summary(t) for t in catalog.tools],
                    "specs": [s.model_dump(mode="json") for s in catalog.specs],
                    "warnings": [short(w, 300) for w in catalog.warnings],
                },
                ensure_ascii=False,
            )
        )
        return 0
    for tool in catalog.tools:
        print(
            f"{tool.name:40} {_where(tool.binding)} "
            f"[{tool.location.value} · {tool.side_effect.value} · {tool.trust.value} · "
            f"auth {tool.auth.scheme}]"
        )
        if tool.description:
            print(f"    {short(tool.description, 110)}")
        hint = tool.side_effect_hint
        if hint is not None and hint is not tool.side_effect:
            print(f"    the server labels it {hint.value}")
        for warning in tool.warnings:
            print(f"    warning: {warning}")
    print(
        f"\n{len(catalog.tools)} tools from {len(args.specs)} spec(s), "
        f"{len(catalog.warnings)} warning(s)"
    )
    return 0


def _overlay(source: str) -> dict[str, Any]:
    """An overlay file (JSON or YAML), read like a spec but not checked as one."""
    from core.catalog.loader import parse_bytes, read_source

    document = parse_bytes(read_source(source), source)
    if not isinstance(document, dict):
        raise ConfigError(f"{source}: not an overlay document")
    return document


def cmd_list(args: argparse.Namespace) -> int:
    entries = registry().list_entries()
    if args.json:
        print(
            json.dumps(
                [e.model_dump(mode="json", exclude={"held_changes"}) for e in entries],
                ensure_ascii=False,
            )
        )
        return 0
    for entry in entries:
        latest = entry.latest
        held = f", {len(entry.held)} operation(s) held" if entry.held else ""
        print(
            f"{latest.title} {latest.version} sha256:{latest.sha256[:12]} "
            f"imported {latest.imported_at:%Y-%m-%d %H:%M} UTC "
            f"({len(entry.versions)} version(s){held})"
        )
        print(f"    {entry.source}")
    if not entries:
        print("the versioned catalog is empty: paddock catalog import SPEC --save")
    return 0
