"""Base URLs: OpenAPI ``servers`` (variables at their defaults) or Swagger host + basePath."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

from core.catalog.loader import is_url


def openapi_base_url(servers: Any, source: str) -> tuple[str, str | None]:
    """``servers[0].url`` with its variables filled in; ``(url, warning or None)``."""
    if not isinstance(servers, list) or not servers or not isinstance(servers[0], dict):
        return _relative("/", source)
    server = servers[0]
    url = str(server.get("url") or "/")
    raw_variables = server.get("variables")
    variables: dict[str, Any] = raw_variables if isinstance(raw_variables, dict) else {}
    missing: list[str] = []

    def fill(match: re.Match[str]) -> str:
        spec = variables.get(match.group(1))
        if isinstance(spec, Mapping) and "default" in spec:
            return str(spec["default"])
        if isinstance(spec, Mapping) and isinstance(spec.get("enum"), list) and spec["enum"]:
            return str(spec["enum"][0])
        missing.append(match.group(1))
        return match.group(0)

    url = re.sub(r"{([^}]+)}", fill, url)
    if missing:
        return url.rstrip("/"), (f"server URL {url!r}: no default for {missing}; pass base_url")
    if is_url(url):
        return url.rstrip("/"), None
    return _relative(url, source)


def swagger_base_url(document: Mapping[str, Any], source: str) -> tuple[str, str | None]:
    """``scheme://host/basePath`` of a Swagger 2.0 document."""
    base_path = str(document.get("basePath") or "")
    host = document.get("host")
    if not host:
        return _relative(base_path or "/", source)
    schemes = [str(s).lower() for s in document.get("schemes") or []]
    scheme = "https" if "https" in schemes or not schemes else schemes[0]
    if not schemes and is_url(source):
        scheme = urlsplit(source).scheme
    return f"{scheme}://{host}{base_path}".rstrip("/"), None


def _relative(url: str, source: str) -> tuple[str, str | None]:
    if is_url(source):
        return urljoin(source, url).rstrip("/"), None
    return url.rstrip("/"), (
        f"server URL {url!r} is relative and the spec was read from a "
        "file; pass base_url to say where the API lives"
    )
