"""Which request media type a tool sends, and how each body property is encoded.

An operation may offer several media types; Paddock sends one, chosen in this order: JSON
(``application/json``, then any ``+json``), ``application/x-www-form-urlencoded``,
``multipart/form-data``, ``text/*``, XML when its schema is a string, then any other type as
file content (``application/octet-stream``, images, PDF...). The tool's argument schema is that
media type's own schema; file content is a base64 string in the arguments.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.domain import BodyPart

FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
_BINARY_FORMATS = frozenset({"binary"})
FILE_NOTE = "file content, base64-encoded (sent as the decoded bytes)"


@dataclass(frozen=True)
class BodySpec:
    """What the binding records about the body: its media type, per-property encodings and
    whether the whole body is file content."""

    media: str | None = None
    parts: tuple[BodyPart, ...] = ()
    file: bool = False


def essence(media_type: str) -> str:
    return media_type.split(";", 1)[0].strip().lower()


def is_json(media_type: str) -> bool:
    kind = essence(media_type)
    return kind in ("application/json", "text/json", "*/*") or kind.endswith("+json")


def _xml(kind: str) -> bool:
    return kind.endswith("/xml") or kind.endswith("+xml")


def _rank(media_type: str, entry: Any) -> int | None:
    kind = essence(media_type)
    if kind in ("application/json", "text/json"):
        return 0
    if kind.endswith("+json"):
        return 1
    if kind == FORM:
        return 2
    if kind == MULTIPART:
        return 3
    if kind.startswith("text/") and not _xml(kind):
        return 4
    if _xml(kind):
        schema = entry.get("schema") if isinstance(entry, dict) else None
        return 5 if isinstance(schema, dict) and schema.get("type") == "string" else None
    if kind in ("*/*", "application/*"):
        return 1  # anything goes: JSON
    if "/" in kind and not kind.startswith("multipart/"):
        return 6
    return None


def choose(content: Mapping[str, Any]) -> str | None:
    """The media type Paddock sends for a ``content`` map (``None``: none it can send)."""
    ranked = [(r, str(m)) for m, e in content.items() if (r := _rank(str(m), e)) is not None]
    return min(ranked)[1] if ranked else None


def is_file_body(media_type: str, schema: Any = None) -> bool:
    """Whether a body of this type is raw file content: not JSON, form, text or XML, and not
    declared ``format: byte`` (base64 text, sent as it is)."""
    rank = _rank(media_type, {"schema": {"type": "string"}})
    byte = isinstance(schema, dict) and schema.get("format") == "byte"
    return rank == 6 and not byte


def is_file_schema(schema: Any) -> bool:
    """A property holding raw file content: ``format: binary`` or Swagger ``type: file``.

    (``format: byte`` is base64 text by definition: it is sent as the text it is.)"""
    if not isinstance(schema, dict):
        return False
    if schema.get("type") == "file":
        return True
    return schema.get("type") in ("string", None) and schema.get("format") in _BINARY_FORMATS


def parts(
    media_type: str, entry: Mapping[str, Any], properties: Mapping[str, Any]
) -> tuple[BodyPart, ...]:
    """The encodings of a form or multipart body's properties that need one.

    ``entry`` is the media type object (its ``encoding`` map); ``properties`` the body
    schema's properties as the spec wrote them (resolved), to find file content.
    """
    kind = essence(media_type)
    if kind not in (FORM, MULTIPART):
        return ()
    encoding = entry.get("encoding")
    encoding = encoding if isinstance(encoding, dict) else {}
    found: list[BodyPart] = []
    for name in sorted(set(encoding) | set(properties)):
        spec = encoding.get(name)
        spec = spec if isinstance(spec, dict) else {}
        file = kind == MULTIPART and is_file_schema(properties.get(name))
        items = properties.get(name)
        if kind == MULTIPART and isinstance(items, dict) and items.get("type") == "array":
            file = file or is_file_schema(items.get("items"))
        style = spec.get("style") if isinstance(spec.get("style"), str) else None
        explode = spec.get("explode") if isinstance(spec.get("explode"), bool) else None
        content_type = spec.get("contentType") if isinstance(spec.get("contentType"), str) else None
        reserved = spec.get("allowReserved") is True
        if style or explode is not None or content_type or reserved or file:
            found.append(
                BodyPart(
                    name=str(name),
                    style=style,
                    explode=explode,
                    allow_reserved=reserved,
                    content_type=content_type.split(",", 1)[0].strip() if content_type else None,
                    file=file,
                )
            )
    return tuple(found)


def mark_files(schema: Any, files: set[str]) -> Any:
    """The converted body schema with each file property described as base64 content."""
    if not files or not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict):
        return schema
    props = dict(schema["properties"])
    for name in files:
        if isinstance(props.get(name), dict):
            props[name] = _file_schema(props[name])
    return {**schema, "properties": props}


def file_schema(schema: Any) -> dict[str, Any]:
    """A whole-body file: a base64 string, with the spec's description kept."""
    found = schema if isinstance(schema, dict) else {}
    return _file_schema(found)


def _file_schema(schema: dict[str, Any]) -> dict[str, Any]:
    if schema.get("type") == "array":
        items = schema.get("items")
        return {**schema, "items": _file_schema(items if isinstance(items, dict) else {})}
    described = str(schema.get("description") or "").strip()
    out = {k: v for k, v in schema.items() if k not in ("format", "type")}
    out.update({"type": "string", "contentEncoding": "base64"})
    out["description"] = f"{described} ({FILE_NOTE})" if described else FILE_NOTE.capitalize()
    return out
