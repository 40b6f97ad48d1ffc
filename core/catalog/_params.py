"""Path, query, header and cookie parameters to argument-schema properties and ``Param`` records."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from core.catalog._refs import Documents, RefError
from core.catalog._schema import REQUEST, Collector, SchemaConverter
from core.domain import Param, ParamLocation

_ORDER = {"path": 0, "query": 1, "header": 2, "cookie": 3}
_IGNORED_HEADERS = frozenset({"accept", "content-type", "authorization"})
_SWAGGER_SCHEMA_KEYS = (
    "type",
    "format",
    "items",
    "default",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "enum",
    "multipleOf",
    "x-nullable",
)
COLLECTION_STYLES = {
    "csv": ("form", False),
    "ssv": ("spaceDelimited", False),
    "pipes": ("pipeDelimited", False),
    "multi": ("form", True),
}


@dataclass
class Args:
    """The argument schema of one operation under construction."""

    properties: dict[str, Any] = field(default_factory=dict)
    required: list[str] = field(default_factory=list)
    params: list[Param] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    collector: Collector = field(default_factory=Collector)

    def add(self, param: Param, schema: Any) -> None:
        self.properties[param.arg] = schema
        self.params.append(param)
        if param.required:
            self.required.append(param.arg)


@dataclass(frozen=True)
class Located:
    """A parameter object with the document it was read from (for its own ``$ref``s)."""

    spec: dict[str, Any]
    base: str


def collect(
    path_level: Any, op_level: Any, docs: Documents, base: str, warnings: list[str]
) -> list[Located]:
    """Path-item parameters overridden by operation parameters with the same name and place."""
    merged: dict[tuple[str, str], Located] = {}
    for group in (path_level, op_level):
        for raw in group if isinstance(group, list) else []:
            try:
                spec, where = docs.follow(raw, base)
            except RefError as exc:
                warnings.append(f"parameter skipped: {exc}")
                continue
            if not isinstance(spec, dict) or "name" not in spec or "in" not in spec:
                warnings.append(f"parameter skipped: not a parameter object ({raw!r:.80})")
                continue
            place = str(spec["in"])
            name = str(spec["name"])
            merged[(place, name.lower() if place == "header" else name)] = Located(spec, where)
    return list(merged.values())


def add_parameters(
    args: Args,
    found: list[Located],
    conv: SchemaConverter,
    *,
    path: str,
    swagger: bool,
    reserve_body: bool,
) -> None:
    """Add every path, query, header and cookie parameter; warn about the ones that cannot be
    sent (Swagger ``body`` and ``formData`` parameters are the request body's business)."""
    usable: list[Located] = []
    for item in found:
        place, name = str(item.spec["in"]), str(item.spec["name"])
        if place in _ORDER and not (place == "header" and name.lower() in _IGNORED_HEADERS):
            usable.append(item)
        elif place == "header":
            args.warnings.append(
                f"header parameter {name!r} ignored (set by the client: "
                "content negotiation or auth)"
            )
        elif place not in ("body", "formData"):  # Swagger's: the request body
            args.warnings.append(f"{place} parameter {name!r} is not supported; it is never sent")
    usable.sort(key=lambda item: _ORDER[str(item.spec["in"])])
    taken: set[str] = {"body"} if reserve_body else set()
    declared = set()
    for item in usable:
        arg = _arg_name(str(item.spec["name"]), str(item.spec["in"]), taken)
        taken.add(arg)
        if item.spec["in"] == "path":
            declared.add(str(item.spec["name"]))
        _add_one(args, item, arg, conv, swagger)
    for name in re.findall(r"{([^}/]+)}", path):
        if name not in declared:
            args.warnings.append(f"path parameter {name!r} is not declared; accepted as a string")
            arg = _arg_name(name, "path", taken)
            taken.add(arg)
            args.add(
                Param(arg=arg, name=name, location=ParamLocation.PATH, required=True),
                {"type": "string"},
            )
    for name in sorted(declared - set(re.findall(r"{([^}/]+)}", path))):
        args.warnings.append(f"path parameter {name!r} does not appear in the path {path}")


def _arg_name(name: str, place: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    candidate, n = f"{place}_{name}", 2
    while candidate in taken:
        candidate = f"{place}_{name}_{n}"
        n += 1
    return candidate


def _add_one(args: Args, item: Located, arg: str, conv: SchemaConverter, swagger: bool) -> None:
    spec, place, name = item.spec, str(item.spec["in"]), str(item.spec["name"])
    where = f"{place} parameter {name}"
    style: str | None = spec.get("style") if isinstance(spec.get("style"), str) else None
    explode = spec.get("explode") if isinstance(spec.get("explode"), bool) else None
    content_type: str | None = None
    if swagger:
        raw: Any = swagger_schema(spec)
        style, explode = _collection_style(spec, place, args.warnings, where)
    elif "schema" in spec:
        raw = spec["schema"]
    elif isinstance(spec.get("content"), dict) and spec["content"]:
        media, body = next(iter(spec["content"].items()))
        raw = body.get("schema", {}) if isinstance(body, dict) else {}
        content_type = str(media)
    else:
        raw = {}
    schema = conv.convert(raw, base=item.base, context=REQUEST, col=args.collector, where=where)
    schema = _annotate(schema, spec)
    required = place == "path" or spec.get("required") is True
    args.add(
        Param(
            arg=arg,
            name=name,
            location=ParamLocation(place),
            required=required,
            style=style,
            explode=explode,
            content_type=content_type,
            allow_reserved=place == "query" and spec.get("allowReserved") is True,
        ),
        schema,
    )


def swagger_schema(spec: dict[str, Any]) -> dict[str, Any]:
    """The schema of a Swagger 2.0 non-body parameter: its own schema keywords."""
    return {k: spec[k] for k in _SWAGGER_SCHEMA_KEYS if k in spec}


def _annotate(schema: Any, spec: dict[str, Any]) -> Any:
    extra: dict[str, Any] = {}
    if isinstance(spec.get("description"), str) and spec["description"].strip():
        extra["description"] = spec["description"].strip()
    if spec.get("deprecated") is True:
        extra["deprecated"] = True
    if "example" in spec and isinstance(schema, dict) and "examples" not in schema:
        extra["examples"] = [spec["example"]]
    if not extra:
        return schema
    if isinstance(schema, dict):
        return {**schema, **extra}
    return {"allOf": [schema], **extra} if schema is False else extra


def _collection_style(
    spec: dict[str, Any], place: str, warnings: list[str], where: str
) -> tuple[str | None, bool | None]:
    if spec.get("type") != "array":
        return None, None
    fmt = str(spec.get("collectionFormat", "csv"))
    if fmt == "multi" and place != "query":
        warnings.append(f"{where}: collectionFormat multi only applies to query; using csv")
        fmt = "csv"
    if fmt not in COLLECTION_STYLES:
        warnings.append(f"{where}: collectionFormat {fmt!r} is not supported; using csv")
        fmt = "csv"
    style, explode = COLLECTION_STYLES[fmt]
    if place != "query" and style == "form":
        style = "simple"
    return style, explode
