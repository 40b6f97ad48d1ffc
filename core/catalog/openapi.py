"""Swagger 2.0 / OpenAPI 3.0 / 3.1 documents to ``Tool`` records, one per operation."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from pydantic import ValidationError

from core.catalog import _auth, _bodies
from core.catalog._media import BodySpec
from core.catalog._naming import sanitize, synthesize, unique
from core.catalog._params import Args, add_parameters, collect
from core.catalog._refs import Documents, RefError
from core.catalog._schema import REQUEST, SchemaConverter
from core.catalog._servers import openapi_base_url, swagger_base_url
from core.catalog.loader import detect_format, load_document
from core.catalog.overlay import with_overlays
from core.domain import AuthRequirement, HttpBinding, Location, SideEffect, SpecRef, Tool, Trust

_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
_SIDE_EFFECTS = {
    "get": SideEffect.READ,
    "head": SideEffect.READ,
    "options": SideEffect.READ,
    "trace": SideEffect.READ,
    "post": SideEffect.WRITE,
    "put": SideEffect.WRITE,
    "patch": SideEffect.WRITE,
    "delete": SideEffect.DESTRUCTIVE,
}
DRIFT_MODES = ("pause", "fail", "warn")


@dataclass(frozen=True)
class ImportResult:
    """What importing one spec produced.

    Attributes:
        spec: the spec's identity (title, version, source, sha256, format).
        tools: one tool per operation, names unique within the spec.
        warnings: document-level warnings; per-operation ones are on each ``Tool``.
    """

    spec: SpecRef
    tools: list[Tool]
    warnings: list[str] = field(default_factory=list)

    def all_warnings(self) -> list[str]:
        """Document warnings, then each tool's warnings prefixed with the tool's name."""
        return [*self.warnings, *(f"{t.name}: {w}" for t in self.tools for w in t.warnings)]


@dataclass
class _Spec:
    """One document being imported, and what every operation shares."""

    document: Mapping[str, Any]
    format: str
    docs: Documents
    conv: SchemaConverter
    base_url: str | None
    warnings: list[str]

    @property
    def swagger(self) -> bool:
        return self.format == "swagger-2.0"


def import_spec(
    source: str,
    *,
    base_url: str | None = None,
    client: httpx.Client | None = None,
    overlays: Sequence[Mapping[str, Any]] = (),
) -> ImportResult:
    """Load the spec at ``source`` (file or URL, JSON or YAML) and convert it.

    ``base_url`` replaces the servers the spec declares, for every operation; ``overlays``
    (OpenAPI Overlay 1.0 documents) are applied first, in order (the spec's hash is then that
    of the result).

    Raises:
        SpecError: the spec cannot be read or is not Swagger 2.0 / OpenAPI 3.x.
    """
    document, raw_bytes = load_document(source, client=client)
    raw: bytes | None = raw_bytes
    if overlays:
        document, raw = with_overlays(document, overlays), None
    return import_document(document, source=source, raw=raw, base_url=base_url)


def tools_from_document(
    document: Mapping[str, Any],
    *,
    source: str = "<document>",
    raw: bytes | None = None,
    base_url: str | None = None,
) -> list[Tool]:
    """The tools of an already parsed document (see ``import_document``)."""
    return import_document(document, source=source, raw=raw, base_url=base_url).tools


def import_document(
    document: Mapping[str, Any],
    *,
    source: str = "<document>",
    raw: bytes | None = None,
    base_url: str | None = None,
) -> ImportResult:
    """Convert a parsed Swagger 2.0 / OpenAPI 3.x document into tools.

    ``source`` names where the document came from (relative ``$ref``s and relative server
    URLs are read against it); ``raw`` is the bytes it was parsed from, for the SpecRef hash.
    Unsupported constructs become warnings, never exceptions.

    Raises:
        SpecError: the document is not Swagger 2.0 / OpenAPI 3.0 / 3.1.
    """
    fmt = detect_format(document, source)
    doc = dict(document)
    docs = Documents(doc, source)
    spec = _Spec(doc, fmt, docs, SchemaConverter(docs, dialect=fmt), base_url, [])
    ref = _spec_ref(doc, fmt, source, raw)
    tools: list[Tool] = []
    taken: set[str] = set()
    for path, method, item, op in _operations(doc, spec):
        label = f"{method.upper()} {path}"
        operation_id = str(op.get("operationId") or "").strip()
        name = sanitize(operation_id) or synthesize(method, path)
        if name in taken:
            renamed = unique(name, taken)
            spec.warnings.append(
                f"{label}: operation name {name!r} is used twice in the spec; "
                f"this one is {renamed!r}"
            )
            name = renamed
        try:
            tools.append(_tool(spec, ref, name, operation_id or name, path, method, item, op))
        except (ValidationError, ValueError, TypeError, KeyError, RefError) as exc:
            spec.warnings.append(f"{label}: skipped, cannot be converted: {exc}")
            continue
        taken.add(name)
    if fmt == "openapi-3.1" and doc.get("webhooks"):
        spec.warnings.append("webhooks are not supported; ignored")
    return ImportResult(spec=ref, tools=tools, warnings=spec.warnings)


def _spec_ref(doc: Mapping[str, Any], fmt: str, source: str, raw: bytes | None) -> SpecRef:
    raw_info = doc.get("info")
    info: Mapping[str, Any] = raw_info if isinstance(raw_info, dict) else {}
    if raw is None:
        raw = _canonical_bytes(doc)
    title = str(info.get("title") or Path(source).stem or "spec").strip()
    return SpecRef(
        title=title,
        version=str(info.get("version", "")),
        source=source,
        sha256=hashlib.sha256(raw).hexdigest(),
        format=fmt,
    )


def _canonical_bytes(doc: Mapping[str, Any]) -> bytes:
    try:
        return json.dumps(doc, sort_keys=True, default=str).encode()
    except TypeError:  # keys of mixed types (YAML status codes as integers)
        return json.dumps(doc, default=str).encode()


def _operations(
    doc: Mapping[str, Any], spec: _Spec
) -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    found = []
    paths = doc.get("paths") or {}
    for path, raw_item in paths.items():
        try:
            item, _ = spec.docs.follow(raw_item, spec.docs.root_uri)
        except RefError as exc:
            spec.warnings.append(f"path {path}: skipped: {exc}")
            continue
        if not isinstance(item, dict):
            continue
        for method in item:
            if method in _METHODS and isinstance(item[method], dict):
                found.append((str(path), str(method), item, item[method]))
    return found


def _tool(
    spec: _Spec,
    ref: SpecRef,
    name: str,
    operation_id: str,
    path: str,
    method: str,
    item: dict[str, Any],
    op: dict[str, Any],
) -> Tool:
    warnings: list[str] = []
    args, body = _arguments(spec, path, item, op)
    warnings.extend(args.warnings)
    schema: dict[str, Any] = {
        "type": "object",
        "properties": args.properties,
        "additionalProperties": False,
    }
    if args.required:
        schema["required"] = args.required
    defs = spec.conv.definitions(args.collector, REQUEST)
    if defs:
        schema["$defs"] = defs
    warnings.extend(args.collector.notes)
    if op.get("callbacks"):
        warnings.append("callbacks are not supported; ignored")
    produces = _list(op.get("produces", spec.document.get("produces")))
    responses = _bodies.responses(
        op,
        spec.conv,
        spec.docs.root_uri,
        swagger=spec.swagger,
        produces=produces,
        warnings=warnings,
    )
    base_url = _base_url(spec, item, op)
    drift_mode = _drift(spec, op, warnings)  # before the warnings are frozen below
    return Tool(
        name=name,
        description=_description(op, method, path),
        args_schema=schema,
        binding=HttpBinding(
            method=method,
            path=path,
            base_url=base_url,
            operation_id=operation_id,
            params=tuple(args.params),
            body_content_type=body.media,
            body_parts=body.parts,
            body_file=body.file,
        ),
        location=_location(spec, item, op, warnings),
        side_effect=_side_effect(method, item, op, warnings),
        trust=_trust(spec, item, op, warnings),
        auth=_auth_for(spec, item, op, warnings),
        responses=responses,
        deprecated=op.get("deprecated") is True,
        spec=ref,
        warnings=tuple(dict.fromkeys(warnings)),
        drift_mode=drift_mode,
    )


def _arguments(
    spec: _Spec, path: str, item: dict[str, Any], op: dict[str, Any]
) -> tuple[Args, BodySpec]:
    args = Args()
    base = spec.docs.root_uri
    found = collect(item.get("parameters"), op.get("parameters"), spec.docs, base, args.warnings)
    body = next((p for p in found if p.spec.get("in") == "body"), None) if spec.swagger else None
    form = [p for p in found if p.spec.get("in") == "formData"] if spec.swagger else []
    has_body = (
        body is not None or bool(form) or (not spec.swagger and op.get("requestBody") is not None)
    )
    add_parameters(args, found, spec.conv, path=path, swagger=spec.swagger, reserve_body=has_body)
    if spec.swagger:
        consumes = _list(op.get("consumes", spec.document.get("consumes")))
        return args, _bodies.swagger_body(args, body, consumes, spec.conv, form)
    return args, _bodies.openapi_body(args, op, spec.conv, base)


def _list(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def _description(op: Mapping[str, Any], method: str, path: str) -> str:
    summary = str(op.get("summary") or "").strip()
    detail = str(op.get("description") or "").strip()
    if summary and detail and not detail.startswith(summary):
        return f"{summary}\n\n{detail}"
    return detail or summary or f"{method.upper()} {path}"


def _ext(key: str, *holders: Any) -> Any:
    for holder in holders:
        if isinstance(holder, Mapping) and key in holder:
            return holder[key]
    return None


def _holders(spec: _Spec, item: Mapping[str, Any], op: Mapping[str, Any]) -> tuple[Any, ...]:
    return op, item, spec.document, spec.document.get("info")


def _location(
    spec: _Spec, item: dict[str, Any], op: dict[str, Any], warnings: list[str]
) -> Location:
    value = _ext("x-paddock-cloud", *_holders(spec, item, op))
    if value is None:
        return Location.EXTERNAL
    try:
        return Location(str(value).strip().lower())
    except ValueError:
        warnings.append(f"x-paddock-cloud {value!r} is not aws, azure or external; using external")
        return Location.EXTERNAL


def _side_effect(
    method: str, item: dict[str, Any], op: dict[str, Any], warnings: list[str]
) -> SideEffect:
    default = _SIDE_EFFECTS[method]
    value = _ext("x-paddock-side-effect", op, item)
    if value is None:
        return default
    try:
        return SideEffect(str(value).strip().lower())
    except ValueError:
        warnings.append(
            f"x-paddock-side-effect {value!r} is not read, write or destructive; "
            f"using {default.value}"
        )
        return default


def _trust(spec: _Spec, item: dict[str, Any], op: dict[str, Any], warnings: list[str]) -> Trust:
    value = _ext("x-paddock-trust", *_holders(spec, item, op))
    if value is None:
        return Trust.TRUSTED
    try:
        return Trust(str(value).strip().lower())
    except ValueError:
        warnings.append(
            f"x-paddock-trust {value!r} is not trusted or untrusted; "
            "treating the output as untrusted"
        )
        return Trust.UNTRUSTED


def _drift(spec: _Spec, op: dict[str, Any], warnings: list[str]) -> str:
    value = _ext("x-paddock-drift", op, spec.document, spec.document.get("info"))
    if value is None:
        return "pause"
    mode = str(value).strip().lower()
    if mode not in DRIFT_MODES:
        warnings.append(f"x-paddock-drift {value!r} is not pause, fail or warn; using pause")
        return "pause"
    return mode


def _auth_for(
    spec: _Spec, item: dict[str, Any], op: dict[str, Any], warnings: list[str]
) -> AuthRequirement:
    requirements = op["security"] if "security" in op else spec.document.get("security")
    found = _auth.from_requirements(requirements, _auth.security_schemes(spec.document), warnings)
    override = _ext("x-paddock-auth", *_holders(spec, item, op))
    return found if override is None else _auth.apply_override(found, override)


def _base_url(spec: _Spec, item: dict[str, Any], op: dict[str, Any]) -> str:
    if spec.base_url is not None:
        return spec.base_url.rstrip("/")
    source = spec.docs.source
    if spec.swagger:
        url, problem = swagger_base_url(spec.document, source)
    else:
        servers = op.get("servers") or item.get("servers") or spec.document.get("servers")
        url, problem = openapi_base_url(servers, source)
    if problem and problem not in spec.warnings:
        spec.warnings.append(problem)
    return url
