"""``paddock catalog ...``."""

from __future__ import annotations

import argparse
import json

from core.cli.render import short


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    catalog = sub.add_parser("catalog", help="import and inspect API specs")
    csub = catalog.add_subparsers(dest="catalog_command", metavar="SUBCOMMAND")
    csub.required = True
    imp = csub.add_parser("import", help="list the tools an OpenAPI/Swagger spec yields")
    imp.add_argument("specs", nargs="+", metavar="SPEC", help="file or URL (JSON or YAML)")
    imp.add_argument("--json", action="store_true", help="one JSON object with every tool")
    imp.set_defaults(handler=cmd_import)


def cmd_import(args: argparse.Namespace) -> int:
    from core.catalog import Catalog

    catalog = Catalog.from_sources(list(args.specs))
    if args.json:
        tools = [t.model_dump(mode="json") for t in catalog.tools]
        print(json.dumps({"tools": tools, "warnings": list(catalog.warnings)},
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
