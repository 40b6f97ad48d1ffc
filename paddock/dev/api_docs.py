"""Render the OpenAPI document as Markdown into docs/api.md (between two markers).

``python -m paddock.dev.api_docs`` rewrites the generated part; ``--check`` fails when it is stale
(a test runs the same check).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from core.api.openapi import openapi_document

BEGIN = "<!-- BEGIN GENERATED: python -m paddock.dev.api_docs -->"
END = "<!-- END GENERATED -->"
DEFAULT_PATH = Path("docs/api.md")


def render_reference(doc: dict[str, Any] | None = None) -> str:
    """The route and schema reference as Markdown."""
    doc = doc or openapi_document()
    lines = ["## Reference", "", f"OpenAPI {doc['openapi']}, served at `GET /openapi.json`.", ""]
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            lines += _operation(method.upper(), path, op)
    lines += ["### Schemas", ""]
    for name, schema in doc["components"]["schemas"].items():
        lines += _schema(name, schema)
    return "\n".join(lines).rstrip() + "\n"


def _operation(method: str, path: str, op: dict[str, Any]) -> list[str]:
    auth = "bearer token" if op.get("security") else "none"
    out = [f"### `{method} {path}`", "", f"{op['summary']}. Auth: {auth}.", ""]
    if op.get("description"):
        out += [op["description"], ""]
    params = op.get("parameters", [])
    if params:
        out += ["| parameter | in | type | required | description |", "|---|---|---|---|---|"]
        out += [
            f"| `{p['name']}` | {p['in']} | {_type(p['schema'])} | "
            f"{'yes' if p.get('required') else 'no'} | {_cell(p.get('description', ''))} |"
            for p in params
        ]
        out.append("")
    body = op.get("requestBody")
    if body:
        schema = body["content"]["application/json"]["schema"]
        out += [f"Body: {_type(schema)}" + ("" if body.get("required") else " (optional)"), ""]
    codes = ", ".join(
        f"`{code}` {_type(r['content']['application/json']['schema'])}"
        if code.startswith("2")
        else f"`{code}`"
        for code, r in op["responses"].items()
    )
    out += [f"Responses: {codes}.", ""]
    return out


def _schema(name: str, schema: dict[str, Any]) -> list[str]:
    out = [f"#### {name}", ""]
    if schema.get("description"):
        out += [_cell(schema["description"]), ""]
    if "enum" in schema:
        return [*out, "One of: " + ", ".join(f"`{v}`" for v in schema["enum"]), ""]
    props = schema.get("properties", {})
    if not props:
        return out
    required = set(schema.get("required", []))
    out += ["| field | type | required | description |", "|---|---|---|---|"]
    out += [
        f"| `{field}` | {_type(prop)} | {'yes' if field in required else 'no'} | "
        f"{_cell(prop.get('description', ''))} |"
        for field, prop in props.items()
    ]
    return [*out, ""]


def _type(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#{name.lower()})"
    if "anyOf" in schema:
        kinds = [_type(s) for s in schema["anyOf"] if s.get("type") != "null"]
        nullable = any(s.get("type") == "null" for s in schema["anyOf"])
        return " or ".join(kinds) + (" or null" if nullable else "")
    if "enum" in schema:
        return " \\| ".join(f"`{v}`" for v in schema["enum"])
    if "const" in schema:
        return f"`{schema['const']}`"
    kind = schema.get("type")
    if kind == "array":
        return f"list of {_type(schema.get('items', {}))}"
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return f"map of {_type(schema['additionalProperties'])}"
    if kind is None:
        return "any"
    fmt = schema.get("format")
    return f"{kind} ({fmt})" if fmt else str(kind)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def update(path: Path, *, check: bool = False) -> bool:
    """Rewrite the generated part of ``path``; with ``check``, only report whether it is
    current. Returns True when the file is (now) up to date."""
    text = path.read_text()
    head, found, rest = text.partition(BEGIN)
    _, found_end, tail = rest.partition(END)
    if not found or not found_end:
        raise SystemExit(f"{path}: markers {BEGIN!r} / {END!r} not found")
    new = f"{head}{BEGIN}\n\n{render_reference()}\n{END}{tail}"
    if new == text:
        return True
    if check:
        return False
    path.write_text(new)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m paddock.dev.api_docs")
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_PATH)
    parser.add_argument("--check", action="store_true", help="fail if the file is stale")
    args = parser.parse_args(argv)
    ok = update(args.path, check=args.check)
    if not ok:
        print(f"{args.path} is out of date: run python -m paddock.dev.api_docs", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
