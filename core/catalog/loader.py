"""Read an API specification (JSON or YAML, optionally gzipped) from a file or an http(s) URL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import yaml

from core.catalog._fetch import GZIP_MAGIC, fetch_bounded, gunzip
from core.catalog.limits import LoadLimits, check_shape, current_limits
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
    source: str,
    *,
    client: httpx.Client | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    limits: LoadLimits | None = None,
) -> bytes:
    """The bytes at ``source`` (a path or an http(s) URL), gunzipped when compressed.

    Reads at most ``max_download_bytes`` and expands gzip to at most
    ``max_decompressed_bytes`` (``core.catalog.limits``); every redirect hop must stay on an
    allowed host. ``SpecError`` names the cap or the host that refused the source.
    """
    limits = limits or current_limits()
    if is_url(source):
        raw = fetch_bounded(source, client=client, timeout=timeout, limits=limits)
    else:
        raw = _read_file(source, limits.max_download_bytes)
    if raw[:2] == GZIP_MAGIC:
        raw = gunzip(raw, source, limits.max_decompressed_bytes)
    return raw


def _read_file(source: str, cap: int) -> bytes:
    path = Path(source)
    if not path.exists():
        raise SpecError(f"spec not found: {source}")
    if not path.is_file():
        raise SpecError(f"spec is not a file: {source}")
    try:
        with path.open("rb") as handle:
            raw = handle.read(cap + 1)
    except OSError as exc:
        raise SpecError(f"cannot read spec {source}: {exc.strerror or exc}") from exc
    if len(raw) > cap:
        raise _too_big(source, cap, "PADDOCK_CATALOG_MAX_DOWNLOAD_BYTES")
    return raw


def _too_big(source: str, cap: int, variable: str) -> SpecError:
    return SpecError(f"{source}: larger than {cap:,} bytes ({variable})")


def _parse_json(text: str, source: str, limits: LoadLimits) -> Any:
    try:
        return json.loads(text)
    except RecursionError:
        raise _too_deep(source, limits) from None


def _too_deep(source: str, limits: LoadLimits) -> SpecError:
    return SpecError(
        f"{source}: nested too deeply to parse (the cap is {limits.max_depth} levels, "
        "PADDOCK_CATALOG_MAX_DEPTH)"
    )


def _yaml_shape(text: str, source: str, limits: LoadLimits) -> None:
    """Walk the YAML events (no objects built): refuse deep nesting and alias floods before
    the constructor, which recurses and expands, ever sees them."""
    depth = aliases = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > limits.max_depth:
                raise SpecError(
                    f"{source}: nested deeper than {limits.max_depth} levels "
                    "(PADDOCK_CATALOG_MAX_DEPTH)"
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
        elif isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > limits.max_refs:
                raise SpecError(
                    f"{source}: more than {limits.max_refs} YAML aliases (PADDOCK_CATALOG_MAX_REFS)"
                )


def parse_bytes(raw: bytes, source: str, *, limits: LoadLimits | None = None) -> Any:
    """Parse JSON (fast path) or YAML within the depth and ``$ref`` caps; one clear line on
    a syntax error or a document over a cap."""
    limits = limits or current_limits()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SpecError(f"{source}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    document = _parse_text(text, source, limits)
    check_shape(document, source, limits)
    return document


def _parse_text(text: str, source: str, limits: LoadLimits) -> Any:
    if text.lstrip().startswith(("{", "[")):
        try:
            return _parse_json(text, source, limits)
        except json.JSONDecodeError:
            pass  # YAML is a superset of JSON in practice; let it report the error
    try:
        _yaml_shape(text, source, limits)
        return yaml.load(text, Loader=_Loader)
    except RecursionError:
        raise _too_deep(source, limits) from None
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
    limits = current_limits()
    try:
        raw = read_source(source, client=client, timeout=timeout, limits=limits)
        document = parse_bytes(raw, source, limits=limits)
    except MemoryError:
        raise SpecError(f"{source}: too large to load in this process's memory") from None
    detect_format(document, source)
    if not isinstance(document.get("paths", {}), dict):
        raise SpecError(f"{source}: 'paths' is not a mapping")
    return document, raw
