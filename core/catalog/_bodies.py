"""Request bodies (one ``body`` argument) and response schemas by status code."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.catalog._params import Args, Located
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


def openapi_body(args: Args, op: Mapping[str, Any], conv: SchemaConverter, base: str) -> str | None:
    """Add the JSON request body of an OpenAPI 3 operation; its media type, if any."""
    raw = op.get("requestBody")
    if raw is None:
        return None
    try:
        body, where = conv.docs.follow(raw, base)
    except RefError as exc:
        args.warnings.append(f"request body skipped: {exc}")
        return None
    content = body.get("content") if isinstance(body, dict) else None
    if not isinstance(content, dict) or not content:
        return None
    required = body.get("required") is True
    media = pick_json(content)
    if media is None:
        if not required and all(_trivial(m) for m in content.values()):
            return None
        args.warnings.append(
            f"request body {', '.join(map(str, content))} is not supported "
            "(only JSON bodies); the tool sends no body"
        )
        return None
    entry = content[media] if isinstance(content[media], dict) else {}
    schema = conv.convert(
        entry.get("schema", {}), base=where, context=REQUEST, col=args.collector, where="body"
    )
    _add_body(args, schema, body.get("description"), required)
    return media


def swagger_body(
    args: Args, body: Located | None, consumes: list[str], conv: SchemaConverter
) -> str | None:
    """Add the JSON body of a Swagger 2.0 operation from its ``in: body`` parameter."""
    if body is None:
        return None
    media = pick_json(dict.fromkeys(consumes)) if consumes else "application/json"
    if media is None:
        args.warnings.append(
            f"request body {', '.join(consumes)} is not supported "
            "(only JSON bodies); the tool sends no body"
        )
        return None
    schema = conv.convert(
        body.spec.get("schema", {}),
        base=body.base,
        context=REQUEST,
        col=args.collector,
        where="body",
    )
    _add_body(args, schema, body.spec.get("description"), body.spec.get("required") is True)
    return media


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
