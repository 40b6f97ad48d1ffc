"""``paddock catalog ...``: import, diff and refresh API specs."""

from __future__ import annotations

import argparse
import json
from typing import Any

from core.catalog.export import short_description
from core.catalog.models import Tool
from core.cli.render import short

DESCRIPTION_LIMIT = 200
"""Characters of each tool's description in ``catalog import --json``."""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    catalog = sub.add_parser("catalog", help="import and inspect API specs")
    csub = catalog.add_subparsers(dest="catalog_command", metavar="SUBCOMMAND")
    csub.required = True
    imp = csub.add_parser("import", help="list the tools an OpenAPI/Swagger spec yields")
    imp.add_argument("specs", nargs="+", metavar="SPEC", help="file or URL (JSON or YAML)")
    imp.add_argument("--json", action="store_true",
                     help="one JSON object listing every tool compactly")
    imp.set_defaults(handler=cmd_import)
    from core.cli.cmd_drift import register as register_drift

    register_drift(csub)


def tool_summary(tool: Tool) -> dict[str, Any]:
    """A bounded description of a tool: no schemas, response status codes only."""
    return {
        "name": tool.name,
        "operation_id": tool.operation_id,
        "method": tool.method,
        "path": tool.path,
        "description": short_description(tool.description, DESCRIPTION_LIMIT),
        "location": tool.location.value,
        "side_effect": tool.side_effect.value,
        "trust": tool.trust.value,
        "auth": tool.auth.scheme,
        "deprecated": tool.deprecated,
        "drift_mode": tool.drift_mode,
        "params": [{"name": p.name, "in": p.location.value, "required": p.required}
                   for p in tool.params],
        "responses": sorted(tool.responses),
        "spec": ({"title": tool.spec.title, "version": tool.spec.version,
                  "sha256": tool.spec.sha256} if tool.spec else None),
        "warnings": len(tool.warnings),
    }


def cmd_import(args: argparse.Namespace) -> int:
    from core.catalog import Catalog

    catalog = Catalog.from_sources(list(args.specs))
    if args.json:
        print(json.dumps({"tools": [tool_summary(t) for t in catalog.tools],
                          "specs": [s.model_dump(mode="json") for s in catalog.specs],
                          "warnings": [short(w, 300) for w in catalog.warnings]},
                         ensure_ascii=False))
        return 0
    for tool in catalog.tools:
        print(f"{tool.name:40} {tool.method:6} {tool.path:40} "
              f"[{tool.location.value} · {tool.side_effect.value} · {tool.trust.value} · "
              f"auth {tool.auth.scheme}]")
        if tool.description:
            print(f"    {short(tool.description, 110)}")
        for warning in tool.warnings:
            print(f"    warning: {warning}")
    print(f"\n{len(catalog.tools)} tools from {len(args.specs)} spec(s), "
          f"{len(catalog.warnings)} warning(s)")
    return 0
