"""Request bodies on the wire, by media type and the Encoding Object of each property.

* JSON and ``application/*+json``: the value as JSON, with the declared content type.
* ``application/x-www-form-urlencoded``: one field per property, by the property's encoding
  (``form`` exploded by default, ``spaceDelimited``, ``pipeDelimited``, ``deepObject`` with
  brackets for nesting; a ``contentType`` of JSON sends the value as JSON text).
* ``multipart/form-data``: one part per property (arrays: one part per item), ``text/plain``
  for primitives and ``application/json`` for objects unless the encoding says otherwise; a
  property with a style is flattened like a form field, one part per pair. File properties
  carry their content base64-encoded in the argument and are sent as the decoded bytes with a
  filename: content only ever comes from the call's own (guarded) arguments, never a path.
* ``text/*``, XML and ``format: byte`` bodies: the string as it is. Any other type
  (``application/octet-stream``, images, PDF) declared ``format: binary`` or without a format:
  file content, base64 in the argument, decoded bytes on the wire.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

from core.domain import BodyPart, HttpBinding
from core.execution._styles import flatten_deep, refuse, scalar

FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
_DELIMITERS = {"spaceDelimited": " ", "pipeDelimited": "|"}


@dataclass(frozen=True)
class EncodedBody:
    """The request body's bytes and the ``Content-Type`` header that goes with them."""

    content: bytes
    content_type: str


@dataclass(frozen=True)
class _Part:
    name: str
    data: bytes
    content_type: str | None = None
    filename: str | None = None


def essence(media_type: str | None) -> str:
    return (media_type or "application/json").split(";", 1)[0].strip().lower()


def is_json(media_type: str | None) -> bool:
    kind = essence(media_type)
    return kind in ("application/json", "text/json", "*/*", "application/*") or kind.endswith(
        "+json"
    )


def is_text(media_type: str | None) -> bool:
    kind = essence(media_type)
    return kind.startswith("text/") or kind.endswith("/xml") or kind.endswith("+xml")


def _xml(kind: str) -> bool:
    return kind.endswith("/xml") or kind.endswith("+xml")


def decode_file(where: str, value: Any) -> bytes:
    """File content from its base64 argument (standard or URL-safe alphabet)."""
    if not isinstance(value, str):
        raise refuse(f"{where}: file content must be a base64 string")
    text = value.strip()
    try:
        if "-" in text or "_" in text:
            return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise refuse(f"{where}: file content is not valid base64") from exc


def encode_body(http: HttpBinding, value: Any) -> EncodedBody:
    """The body of one call; a value its media type cannot carry is refused."""
    media = http.body_content_type or "application/json"
    kind = essence(media)
    if http.body_file:
        return EncodedBody(decode_file("body", value), media)
    if is_json(media):
        data = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
        return EncodedBody(data, "application/json" if "*" in kind else media)
    if kind in (FORM, MULTIPART):
        if not isinstance(value, dict):
            raise refuse(f"a {kind} body must be an object of fields")
        parts = {p.name: p for p in http.body_parts}
        if kind == FORM:
            pairs = _form_pairs(value, parts)
            data = "&".join(f"{quote_plus(k)}={quote_plus(v)}" for k, v in pairs).encode()
            return EncodedBody(data, FORM)
        return _multipart(value, parts)
    if isinstance(value, str) or (is_text(media) and not _xml(kind)):
        # text, XML as written, base64 text (``format: byte``): the value as it is
        if isinstance(value, dict | list):
            raise refuse(f"a {kind} body must be text, not {type(value).__name__}")
        return EncodedBody(scalar(value).encode(), media)
    raise refuse(f"request body type {media!r} is not supported by the executor")


def _form_pairs(value: dict[str, Any], parts: dict[str, BodyPart]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for name, item in value.items():
        if item is None:
            continue
        pairs.extend(_field(str(name), item, parts.get(str(name))))
    return pairs


def _field(name: str, value: Any, part: BodyPart | None) -> list[tuple[str, str]]:
    """One property as form pairs, by its encoding (default: ``form``, exploded)."""
    if part is not None and part.content_type and is_json(part.content_type):
        return [(name, json.dumps(value, separators=(",", ":"), ensure_ascii=False))]
    style = (part.style if part else None) or "form"
    explode = part.explode if part is not None and part.explode is not None else style == "form"
    if style == "deepObject":
        return flatten_deep(name, value)
    if isinstance(value, dict):
        pairs = [(str(k), scalar(v)) for k, v in value.items()]
        if explode:
            return pairs
        sep = _DELIMITERS.get(style, ",")
        return [(name, sep.join(x for kv in pairs for x in kv))]
    if isinstance(value, list | tuple):
        items = [scalar(v) for v in value]
        if explode:
            return [(name, v) for v in items]
        return [(name, _DELIMITERS.get(style, ",").join(items))]
    return [(name, scalar(value))]


def _multipart(value: dict[str, Any], parts: dict[str, BodyPart]) -> EncodedBody:
    found: list[_Part] = []
    for raw_name, item in value.items():
        name = str(raw_name)
        if item is None:
            continue
        part = parts.get(name)
        if part is not None and part.file:
            kind = part.content_type or "application/octet-stream"
            for content in item if isinstance(item, list) else [item]:
                data = decode_file(f"body field {name!r}", content)
                found.append(_Part(name, data, kind, filename=name))
        elif part is not None and part.style:
            found.extend(_Part(k, v.encode()) for k, v in _field(name, item, part))
        else:
            found.extend(_typed_parts(name, item, part))
    boundary = secrets.token_hex(16)
    return EncodedBody(_envelope(found, boundary), f"{MULTIPART}; boundary={boundary}")


def _typed_parts(name: str, value: Any, part: BodyPart | None) -> list[_Part]:
    """Parts with their own content type: JSON for objects, text otherwise (arrays: one part
    per item, unless the part itself is declared JSON)."""
    declared = part.content_type if part is not None else None
    items = value if isinstance(value, list) and not (declared and is_json(declared)) else [value]
    found: list[_Part] = []
    for item in items:
        kind = declared or ("application/json" if isinstance(item, dict | list) else "text/plain")
        if is_json(kind):
            data = json.dumps(item, separators=(",", ":"), ensure_ascii=False).encode()
        else:
            data = scalar(item).encode()
        found.append(_Part(name, data, kind))
    return found


def _envelope(parts: list[_Part], boundary: str) -> bytes:
    """RFC 7578 ``multipart/form-data``: names quoted, ``"`` and line breaks escaped."""
    chunks: list[bytes] = []
    for part in parts:
        disposition = f'form-data; name="{_quoted(part.name)}"'
        if part.filename is not None:
            disposition += f'; filename="{_quoted(part.filename)}"'
        head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
        if part.content_type:
            head += f"Content-Type: {part.content_type}\r\n"
        chunks.append(head.encode() + b"\r\n" + part.data + b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks)


def _quoted(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
