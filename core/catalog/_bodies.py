"""Request bodies (one ``body`` argument) and response schemas by status code."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.catalog import _media
from core.catalog._media import BodySpec, essence
from core.catalog._params import COLLECTION_STYLES, Args, Located, swagger_schema
from core.catalog._refs import RefError
from core.catalog._schema import REQUEST, RESPONSE, Collector, SchemaConverter
from core.domain import Param, ParamLocation


def is_json(media_type: str) -> bool:
    essence = media_type.split(";", 1)[0].strip().lower()
    return essence in ("application/json", "text/json", "*/*") or essence.endswith("+json")


def pick_json(content: Mapping[str, Any]) -> str | None:
    """The JSON media type of a ``content`` map, preferring plain ``application/json``."""
    types = [str(t) for t in content]
    for media in types:
        if media.split(";", 1)[0].strip().lower() == "application/json":
            return media
    return next((m for m in types if is_json(m) and m != "*/*"), None) or next(
        (m for m in types if is_json(m)), None
    )


def _trivial(media: Any) -> bool:
    """A body that can carry nothing: no schema, or an object that allows no property.

    (Stripe declares such empty form bodies on every GET.)
    """
    schema = media.get("schema") if isinstance(media, dict) else None
    return schema is None or (
        isinstance(schema, dict)
        and not schema.get("properties")
        and schema.get("additionalProperties") is False
        and not any(k in schema for k in ("$ref", "allOf", "anyOf", "oneOf", "patternProperties"))
    )


def _add_body(args: Args, schema: Any, description: Any, required: bool) -> None:
    if isinstance(description, str) and description.strip() and isinstance(schema, dict):
        schema = {**schema, "description": description.strip()}
    args.add(Param(arg="body", name="body", location=ParamLocation.BODY, required=required), schema)


def openapi_body(args: Args, op: Mapping[str, Any], conv: SchemaConverter, base: str) -> BodySpec:
    """Add the request body of an OpenAPI 3 operation (see ``_media`` for the media types)."""
    raw = op.get("requestBody")
    if raw is None:
        return BodySpec()
    try:
        body, where = conv.docs.follow(raw, base)
    except RefError as exc:
        args.warnings.append(f"request body skipped: {exc}")
        return BodySpec()
    content = body.get("content") if isinstance(body, dict) else None
    if not isinstance(content, dict) or not content:
        return BodySpec()
    required = body.get("required") is True
    if not required and all(_trivial(m) for m in content.values()):
        return BodySpec()  # nothing it could carry (Stripe's empty form bodies on GETs)
    media = _media.choose(content)
    if media is None:
        args.warnings.append(
            f"request body {', '.join(map(str, content))} is not supported; the tool sends no body"
        )
        return BodySpec()
    entry = content[media] if isinstance(content[media], dict) else {}
    raw_schema = entry.get("schema", {})
    properties = _properties(conv, raw_schema, where)
    spec = BodySpec(
        media=media,
        parts=_media.parts(media, entry, properties),
        file=_media.is_file_body(media, _resolved(conv, raw_schema, where)),
    )
    schema = conv.convert(raw_schema, base=where, context=REQUEST, col=args.collector, where="body")
    _add_body(args, _shown(schema, spec), body.get("description"), required)
    return spec


def _resolved(conv: SchemaConverter, schema: Any, base: str) -> Any:
    try:
        return conv.docs.follow(schema, base)[0]
    except RefError:
        return None


def _properties(conv: SchemaConverter, schema: Any, base: str) -> dict[str, Any]:
    """The body schema's own properties, each ``$ref`` followed once (to spot file content)."""
    try:
        resolved, where = conv.docs.follow(schema, base)
    except RefError:
        return {}
    props = resolved.get("properties") if isinstance(resolved, dict) else None
    if not isinstance(props, dict):
        return {}
    found: dict[str, Any] = {}
    for name, prop in props.items():
        try:
            found[str(name)], _ = conv.docs.follow(prop, where)
        except RefError:
            continue
    return found


def _shown(schema: Any, spec: BodySpec) -> Any:
    """The schema the model sees: file content as base64 strings."""
    if spec.file:
        return _media.file_schema(schema)
    return _media.mark_files(schema, {p.name for p in spec.parts if p.file})


def swagger_body(
    args: Args,
    body: Located | None,
    consumes: list[str],
    conv: SchemaConverter,
    form: list[Located] | None = None,
) -> BodySpec:
    """Add the body of a Swagger 2.0 operation: its ``in: body`` parameter, or its
    ``in: formData`` parameters as one form (multipart when a file is among them)."""
    if form:
        return _swagger_form(args, form, consumes, conv)
    if body is None:
        return BodySpec()
    media = _media.choose(dict.fromkeys(consumes, body.spec)) if consumes else "application/json"
    if media is None or essence(media) in (_media.FORM, _media.MULTIPART):
        args.warnings.append(
            f"request body {', '.join(consumes)} is not supported; the tool sends no body"
        )
        return BodySpec()
    spec = BodySpec(media=media, file=_media.is_file_body(media, body.spec.get("schema")))
    schema = conv.convert(
        body.spec.get("schema", {}),
        base=body.base,
        context=REQUEST,
        col=args.collector,
        where="body",
    )
    _add_body(
        args, _shown(schema, spec), body.spec.get("description"), body.spec.get("required") is True
    )
    return spec


def _swagger_form(
    args: Args, form: list[Located], consumes: list[str], conv: SchemaConverter
) -> BodySpec:
    properties: dict[str, Any] = {}
    required: list[str] = []
    files: set[str] = set()
    raw_props: dict[str, Any] = {}
    for item in form:
        name = str(item.spec["name"])
        raw = swagger_schema(item.spec)
        raw_props[name] = raw
        if _media.is_file_schema(raw):
            files.add(name)
            raw = {k: v for k, v in raw.items() if k != "type"} | {"type": "string"}
        properties[name] = conv.convert(
            raw, base=item.base, context=REQUEST, col=args.collector, where=f"form field {name}"
        )
        if item.spec.get("required") is True:
            required.append(name)
    kinds = [essence(c) for c in consumes]
    media = (
        _media.MULTIPART
        if files or (_media.MULTIPART in kinds and _media.FORM not in kinds)
        else _media.FORM
    )
    encoding = {n: {"style": s, "explode": e} for n, (s, e) in _form_styles(form).items()}
    spec = BodySpec(media=media, parts=_media.parts(media, {"encoding": encoding}, raw_props))
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = required
    _add_body(args, _shown(schema, spec), None, bool(required))
    return spec


def _form_styles(form: list[Located]) -> dict[str, tuple[str, bool]]:
    found: dict[str, tuple[str, bool]] = {}
    for item in form:
        if item.spec.get("type") != "array":
            continue
        fmt = str(item.spec.get("collectionFormat", "csv"))
        found[str(item.spec["name"])] = COLLECTION_STYLES.get(fmt, COLLECTION_STYLES["csv"])
    return found


def responses(
    op: Mapping[str, Any],
    conv: SchemaConverter,
    base: str,
    *,
    swagger: bool,
    produces: list[str],
    warnings: list[str],
) -> dict[str, dict[str, Any]]:
    """JSON response schema by status code, each a root with its own ``$defs``."""
    found: dict[str, dict[str, Any]] = {}
    raw_responses = op.get("responses")
    if not isinstance(raw_responses, dict):
        return found
    for status, raw in raw_responses.items():
        code = str(status).upper() if str(status).lower() != "default" else "default"
        if code.startswith("X-"):
            continue
        try:
            response, where = conv.docs.follow(raw, base)
        except RefError as exc:
            warnings.append(f"response {code} skipped: {exc}")
            continue
        schema = _response_schema(response, swagger, produces)
        if schema is None:
            continue
        col = Collector()
        converted = conv.convert(
            schema, base=where, context=RESPONSE, col=col, where=f"response {code}"
        )
        defs = conv.definitions(col, RESPONSE)
        warnings.extend(w for w in col.notes if w not in warnings)
        found[code] = root_schema(converted, defs)
    return found


def _response_schema(response: Any, swagger: bool, produces: list[str]) -> Any:
    if not isinstance(response, dict):
        return None
    if swagger:
        schema = response.get("schema")
        if schema is None or (isinstance(schema, dict) and schema.get("type") == "file"):
            return None
        if produces and pick_json(dict.fromkeys(produces)) is None:
            return None
        return schema
    content = response.get("content")
    if not isinstance(content, dict):
        return None
    media = pick_json(content)
    if media is None or not isinstance(content[media], dict):
        return None
    return content[media].get("schema")


def root_schema(schema: Any, defs: dict[str, Any]) -> dict[str, Any]:
    """A converted schema as a standalone root (booleans become objects)."""
    if schema is True:
        schema = {}
    elif schema is False:
        schema = {"not": {}}
    if defs:
        return {**schema, "$defs": defs}
    return dict(schema)
