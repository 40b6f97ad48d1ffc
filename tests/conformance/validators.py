"""Independent judges of a raw HTTP request against the ORIGINAL spec.

* OpenAPI 3.x: ``openapi-core`` (its request unmarshaller: path finding, parameters by style,
  media types and the Encoding Object, schema validation, security). One extension: OpenAPI
  defines ``deepObject`` for one level of a plain object, and openapi-core decodes only that
  (it gives up on arrays and ``anyOf``). Stripe nests with brackets (``a[b][0][c]=v``), so for
  ``deepObject`` alone this module plugs in a decoder of that convention, guided by the
  parameter's schema; casting and validation of what it decodes stay openapi-core's.
* Swagger 2.0: ``bravado-core`` (``unmarshal_param`` per parameter: collection formats,
  casting, Draft 4 validation with Swagger's formats) on the operation the spec declares.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import parse_qsl, unquote

from jsonschema_path import SchemaPath
from openapi_core import Config, OpenAPI
from openapi_core.casting.schemas import oas30_write_schema_casters_factory
from openapi_core.deserializing.media_types.util import plain_loads
from openapi_core.deserializing.styles import StyleDeserializersFactory, style_deserializers
from openapi_core.deserializing.styles.deserializers import StyleDeserializer
from openapi_core.testing import MockRequest
from werkzeug.datastructures import Headers, ImmutableMultiDict

from tests.execution.backend import Seen


@dataclass(frozen=True)
class Verdict:
    ok: bool
    errors: tuple[str, ...] = ()


# -- OpenAPI 3: openapi-core ----------------------------------------------------------------


def _branches(schema: SchemaPath) -> list[SchemaPath]:
    found = [schema]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            for sub in schema / key:
                found.extend(_branches(sub))
    return found


def _typed(schema: SchemaPath, kind: str) -> SchemaPath | None:
    for branch in _branches(schema):
        if (branch / "type").read_str("") == kind:
            return branch
    return None


def _child(schema: SchemaPath | None, key: str) -> SchemaPath | None:
    if schema is None:
        return None
    for branch in _branches(schema):
        if "properties" in branch and key in (branch / "properties"):
            return branch / "properties" / key
    for branch in _branches(schema):
        if "additionalProperties" in branch:
            extra = branch / "additionalProperties"
            if isinstance(extra.read_value(), dict):
                return extra
    return None


def _shape(node: Any, schema: SchemaPath | None) -> Any:
    if not isinstance(node, dict):
        return node
    array = _typed(schema, "array") if schema is not None else None
    if array is not None and node and all(k.isdigit() for k in node):
        items = array / "items" if "items" in array else None
        return [_shape(node[k], items) for k in sorted(node, key=int)]
    return {k: _shape(v, _child(schema, k)) for k, v in node.items()}


def _deep_nested(
    explode: bool, name: str, schema_type: str, location: Any, *, schema: SchemaPath
) -> Any:
    prefix = name + "["
    keys = [k for k in location if k.startswith(prefix)]
    if not keys:
        if name in location:  # Stripe's "unset" value: `name=`
            return location[name]
        raise KeyError(name)
    tree: dict[str, Any] = {}
    for key in keys:
        path = re.findall(r"\[([^\]]*)\]", key[len(name) :])
        node = tree
        for part in path[:-1]:
            node = node.setdefault(part, {})
        value = location[key]  # multipart parts arrive as bytes
        node[path[-1]] = value.decode() if isinstance(value, bytes) else value
    return _shape(tree, schema)


class _NestedDeepObject(StyleDeserializersFactory):
    def create(
        self, spec: SchemaPath, schema: SchemaPath, style: str, explode: bool, name: str
    ) -> StyleDeserializer:
        found = super().create(spec, schema, style, explode, name)
        if style == "deepObject":
            found.deserializer_callable = partial(_deep_nested, schema=schema)
        return found


FORMATS = {"unix-time": lambda value: isinstance(value, int)}
"""Vendor formats openapi-core does not know (Stripe's ``unix-time``: seconds, an integer).

``application/octet-stream`` bodies are read as text: openapi-core hands raw bytes to schema
validation, which no ``type: string`` schema accepts, and Xero's are ``format: byte`` (base64
text, which the validator then checks)."""


def openapi_judge(document: dict[str, Any]) -> OpenAPI:
    factory = _NestedDeepObject(
        oas30_write_schema_casters_factory, style_deserializers=style_deserializers
    )
    config = Config(
        spec_validator_cls=None,
        style_deserializers_factory=factory,
        extra_format_validators=FORMATS,
        extra_media_type_deserializers={"application/octet-stream": plain_loads},
    )
    return OpenAPI.from_dict(document, config=config)


def _errors(exc: BaseException) -> list[str]:
    found = [f"{type(exc).__name__}: {exc}"]
    cause = exc.__cause__
    while cause is not None:
        found.append(f"{type(cause).__name__}: {cause}")
        for sub in getattr(cause, "schema_errors", None) or []:
            found.append(f"  {getattr(sub, 'message', sub)}"[:300])
        cause = cause.__cause__
    return found


def check_openapi(
    judge: OpenAPI, seen: Seen, host_url: str, route: tuple[str, str] | None = None
) -> Verdict:
    """Judge ``seen``; ``route`` (base path, path template) resolves the operation the way a
    server's router does, for specs whose templates overlap (Xero's ``/Attachments/{FileName}``
    and ``/Attachments/{AttachmentID}``, which OpenAPI says MUST NOT both exist); the path
    parameters are then read from the raw path by that template."""
    pattern: str | None = None
    view_args: dict[str, str] | None = None
    if route is not None:
        base_path, template = route
        raw = seen.raw_path[len(base_path) :] if seen.raw_path.startswith(base_path) else ""
        view_args = path_values(template, raw)
        if view_args is None:
            return Verdict(False, (f"path {seen.raw_path} does not match {base_path}{template}",))
        pattern = base_path + template
    headers = Headers(list(seen.headers.items()))
    cookies: list[tuple[str, str]] = []
    for piece in seen.headers.get("cookie", "").split(";"):
        name, _, value = piece.strip().partition("=")
        if name:
            cookies.append((name, unquote(value)))
    request = MockRequest(
        host_url,
        seen.method,
        seen.raw_path,
        path_pattern=pattern,
        view_args=view_args,
        args=ImmutableMultiDict(parse_qsl(seen.query, keep_blank_values=True)),  # type: ignore[arg-type]
        headers=headers,  # type: ignore[arg-type]
        cookies=ImmutableMultiDict(cookies),  # type: ignore[arg-type]
        data=seen.body,
        content_type=seen.headers.get("content-type", ""),
    )
    # Validation only: unmarshalling would also insert schema defaults, and Xero declares
    # `default: "false"` (a string) on read-only booleans, which no request can satisfy.
    try:
        judge.validate_request(request)
    except Exception as exc:  # openapi-core raises its OpenAPIError family
        return Verdict(False, tuple(_errors(exc)))
    return Verdict(True)


# -- Swagger 2.0: bravado-core ------------------------------------------------------------


class _Incoming:
    """bravado-core's ``IncomingRequest`` over what the server recorded."""

    def __init__(self, seen: Seen, path: dict[str, str]) -> None:
        self.path = path
        self.query = dict(parse_qsl(seen.query, keep_blank_values=True))
        self.headers = _Caseless(seen.headers)
        self.form: dict[str, str] = {}
        self.files: dict[str, bytes] = {}
        self._body = seen.body

    def json(self) -> Any:
        return json.loads(self._body)


class _Caseless(dict[str, str]):
    def __init__(self, values: dict[str, str]) -> None:
        super().__init__({k.lower(): v for k, v in values.items()})

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().get(key.lower(), default)


def path_values(template: str, raw_path: str) -> dict[str, str] | None:
    """The path parameters of ``raw_path`` by ``template`` (decoded), or ``None``."""
    names: list[str] = []

    def group(match: re.Match[str]) -> str:
        names.append(match.group(1))
        return "([^/]+)"

    pattern = re.sub(r"\\\{([^{}]+)\\\}", group, re.escape(template))
    found = re.fullmatch(pattern, raw_path)
    if found is None:
        return None
    return {n: unquote(v) for n, v in zip(names, found.groups(), strict=True)}


def swagger_judge(document: dict[str, Any], origin: str) -> Any:
    """bravado-core's view of a Swagger 2.0 document read from ``origin`` (a ``file:`` URI:
    its resolver then never reaches for the network)."""
    from bravado_core.spec import Spec

    class OfflineSpec(Spec):  # type: ignore[misc]
        """Never fetches: bravado's legacy resolver walks jsonschema's registry of meta-schemas,
        where openapi-core registered OpenAPI 3.x ones (unrelated to a Swagger 2.0 document)."""

        def get_ref_handlers(self) -> dict[str, Any]:
            def offline(uri: str) -> Any:
                if uri.startswith("https://spec.openapis.org/oas/"):
                    return {}
                raise ValueError(f"{uri} is not fetched (offline)")

            return {"http": offline, "https": offline}

    config = {"validate_swagger_spec": False, "validate_requests": True, "use_models": False}
    return OfflineSpec.from_dict(document, origin_url=origin, config=config)


def check_swagger(spec: Any, template: str, method: str, seen: Seen, base_path: str) -> Verdict:
    from bravado_core.operation import Operation
    from bravado_core.request import unmarshal_request

    op_spec = spec.spec_dict["paths"][template][method.lower()]
    operation = Operation(spec, template, method.lower(), op_spec)
    raw = seen.raw_path[len(base_path) :] if seen.raw_path.startswith(base_path) else None
    values = path_values(template, raw) if raw is not None else None
    if values is None:
        return Verdict(False, (f"path {seen.raw_path} does not match {base_path}{template}",))
    try:
        unmarshal_request(_Incoming(seen, values), operation)
    except Exception as exc:  # bravado raises ValidationError, SwaggerMappingError and others
        return Verdict(False, (f"{type(exc).__name__}: {str(exc)[:500]}",))
    return Verdict(True)
