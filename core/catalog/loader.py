"""Read an API specification (JSON or YAML, optionally gzipped) from a file or an http(s) URL."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import httpx
import yaml

from core.errors import SpecError

FORMATS = ("swagger-2.0", "openapi-3.0", "openapi-3.1")
DEFAULT_TIMEOUT = 30.0


class _Loader(yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader):  # type: ignore[misc]
    """Safe YAML without timestamps: ``version: 2020-07-01`` stays the string it reads as."""


def _as_string(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    return str(loader.construct_scalar(node))  # type: ignore[arg-type]


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _as_string)


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def read_source(
    source: str, *, client: httpx.Client | None = None, timeout: float = DEFAULT_TIMEOUT
) -> bytes:
    """The bytes at ``source`` (a path or an http(s) URL), gunzipped when compressed."""
    raw = _fetch(source, client, timeout) if is_url(source) else _read_file(source)
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise SpecError(f"{source}: not a valid gzip file ({exc})") from exc
    return raw


def _read_file(source: str) -> bytes:
    path = Path(source)
    if not path.exists():
        raise SpecError(f"spec not found: {source}")
    if not path.is_file():
        raise SpecError(f"spec is not a file: {source}")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SpecError(f"cannot read spec {source}: {exc.strerror or exc}") from exc


def _fetch(url: str, client: httpx.Client | None, timeout: float) -> bytes:
    try:
        if client is not None:
            response = client.get(url, follow_redirects=True)
        else:
            response = httpx.get(url, timeout=timeout, follow_redirects=True)
    except httpx.HTTPError as exc:
        raise SpecError(f"cannot fetch spec {url}: {type(exc).__name__}: {exc}") from exc
    if response.status_code >= 400:
        raise SpecError(f"cannot fetch spec {url}: HTTP {response.status_code}")
    return response.content


def parse_bytes(raw: bytes, source: str) -> Any:
    """Parse JSON (fast path) or YAML; one clear line on a syntax error."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SpecError(f"{source}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    if text.lstrip().startswith(("{", "[")):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            pass  # YAML is a superset of JSON in practice; let it report the error
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise SpecError(f"{source}: invalid YAML/JSON{_where(exc)}") from exc


def _where(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or ""
    if mark is None:
        return f": {problem}" if problem else ""
    return f" at line {mark.line + 1}, column {mark.column + 1}" + (
        f": {problem}" if problem else ""
    )


def detect_format(document: Any, source: str = "<document>") -> str:
    """``swagger-2.0``, ``openapi-3.0`` or ``openapi-3.1``; ``SpecError`` for anything else."""
    if not isinstance(document, dict):
        raise SpecError(f"{source}: not an OpenAPI or Swagger document")
    if "swagger" in document:
        if str(document["swagger"]).strip() == "2.0":
            return "swagger-2.0"
        raise SpecError(
            f"{source}: unsupported Swagger version {document['swagger']!r} (2.0 is supported)"
        )
    if "openapi" in document:
        version = str(document["openapi"]).strip()
        if version.startswith("3.0"):
            return "openapi-3.0"
        if version.startswith("3.1"):
            return "openapi-3.1"
        raise SpecError(
            f"{source}: unsupported OpenAPI version {version!r} (3.0 and 3.1 are supported)"
        )
    raise SpecError(
        f"{source}: not an OpenAPI or Swagger document (no 'openapi' or 'swagger' field)"
    )


def load_document(
    source: str, *, client: httpx.Client | None = None, timeout: float = DEFAULT_TIMEOUT
) -> tuple[dict[str, Any], bytes]:
    """Read and parse the spec at ``source`` (file path or http(s) URL, JSON or YAML).

    ``.gz`` content is decompressed transparently; the returned bytes are the decompressed
    document, so a spec hashes the same whether it was stored compressed or not.

    Raises:
        SpecError: the source is missing or unreachable, does not parse, or is not a
            Swagger 2.0 / OpenAPI 3.0 / 3.1 document.
    """
    raw = read_source(source, client=client, timeout=timeout)
    document = parse_bytes(raw, source)
    detect_format(document, source)
    if not isinstance(document.get("paths", {}), dict):
        raise SpecError(f"{source}: 'paths' is not a mapping")
    return document, raw
