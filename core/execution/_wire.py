"""From a tool and its arguments to the parts of one HTTP request, and the target fence.

Anything that would leave the tool's base URL, or cannot be put on the wire faithfully, is
refused with an ``ExecutionError`` before a byte is sent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote

import httpx

from core.domain import HttpBinding, Param, ParamLocation, Tool
from core.execution._body import encode_body
from core.execution._styles import cookie_pairs, header_value, path_value, query_pairs, refuse

_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Credentials and framing are the executor's and the identity layer's business, never the
# planner's; OpenAPI also says Accept, Content-Type and Authorization params are ignored.
_IGNORED_HEADERS = frozenset(
    {
        "accept",
        "authorization",
        "connection",
        "content-length",
        "content-type",
        "cookie",
        "host",
        "idempotency-key",
        "proxy-authorization",
        "traceparent",
        "transfer-encoding",
    }
)
_TEMPLATE_SAFE = "/:@!$&'()*+,;="


@dataclass
class WireRequest:
    """The parts of one request, before the client builds it."""

    method: str
    url: httpx.URL
    query: list[str] = field(default_factory=list)
    """Encoded ``name=value`` pieces, joined with ``&`` into ``url``'s query."""
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None
    """The encoded body (its ``Content-Type`` is in ``headers``); ``None``: no body."""


def http_binding(tool: Tool) -> HttpBinding:
    """The tool's HTTP binding; a tool bound otherwise is refused."""
    if not isinstance(tool.binding, HttpBinding):
        raise refuse(f"{tool.name}: binding {tool.binding.kind!r} is not HTTP")
    return tool.binding


def base_url_of(binding: HttpBinding) -> httpx.URL:
    """The binding's base URL, which every request of the tool must stay under."""
    try:
        base = httpx.URL(binding.base_url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise refuse(f"tool base URL {binding.base_url!r} is not a valid URL") from exc
    if base.scheme not in _DEFAULT_PORTS or not base.host:
        raise refuse(f"tool base URL {binding.base_url!r} is not an absolute http(s) URL")
    return base


def _header_value(param: Param, value: Any) -> str:
    text = header_value(param, value)
    if not _TOKEN.match(param.name):
        raise refuse(f"header parameter name {param.name!r} is not a valid header name")
    if not text.isascii() or any(c in text for c in "\r\n\0"):
        raise refuse(f"header parameter {param.name!r} value must be ASCII without line breaks")
    return text


def _fill_path(http: HttpBinding, base: httpx.URL, values: dict[str, str]) -> httpx.URL:
    template = http.path if http.path.startswith("/") else "/" + http.path
    pieces: list[str] = []
    last = 0
    for match in _PLACEHOLDER.finditer(template):
        pieces.append(quote(template[last : match.start()], safe=_TEMPLATE_SAFE))
        name = match.group(1)
        if name not in values:
            raise refuse(f"path parameter {name!r} has no value")
        pieces.append(values[name])
        last = match.end()
    pieces.append(quote(template[last:], safe=_TEMPLATE_SAFE))
    prefix = base.raw_path.split(b"?", 1)[0].decode("ascii").rstrip("/")
    return base.copy_with(raw_path=(prefix + "".join(pieces)).encode("ascii"))


def _check_args(tool: Tool, http: HttpBinding, args: dict[str, Any]) -> None:
    known = {p.arg for p in http.params}
    unknown = sorted(set(args) - known)
    if unknown:
        raise refuse(f"unknown argument(s) for {tool.name}: {', '.join(unknown)}")
    for param in http.params:
        if param.required and args.get(param.arg) is None:
            raise refuse(f"missing required argument {param.arg!r}")


def build_wire(tool: Tool, args: dict[str, Any]) -> WireRequest:
    """Map arguments onto path, query, headers and body as the tool's HTTP binding says
    (a tool bound otherwise is refused)."""
    http = http_binding(tool)
    base = base_url_of(http)
    _check_args(tool, http, args)
    base_query = base.query.decode("ascii")
    wire = WireRequest(method=http.method, url=base, query=[base_query] if base_query else [])
    path_values: dict[str, str] = {}
    cookies: list[str] = []
    for param in http.params:
        value = args.get(param.arg)
        if value is None:
            continue
        if param.location is ParamLocation.PATH:
            path_values[param.name] = path_value(param, value)
        elif param.location is ParamLocation.QUERY:
            wire.query.extend(query_pairs(param, value))
        elif param.location is ParamLocation.HEADER:
            if param.name.lower() not in _IGNORED_HEADERS:
                wire.headers[param.name] = _header_value(param, value)
        elif param.location is ParamLocation.COOKIE:
            cookies.extend(cookie_pairs(param, value))
        else:
            body = encode_body(http, value)
            wire.content = body.content
            wire.headers["Content-Type"] = body.content_type
    if cookies:
        wire.headers["Cookie"] = "; ".join(cookies)
    wire.url = _fill_path(http, base, path_values).copy_with(
        query=("&".join(wire.query).encode("ascii") or None)
    )
    return wire


def _port(url: httpx.URL) -> int | None:
    return url.port if url.port is not None else _DEFAULT_PORTS.get(url.scheme)


def target_refusal(base: httpx.URL, url: httpx.URL) -> str | None:
    """Why ``url`` is not under ``base`` (other scheme, host, port or path), or ``None``."""
    if (url.scheme, url.host, _port(url)) != (base.scheme, base.host, _port(base)):
        return f"target {origin(url)} is not the tool's base URL {origin(base)}"
    prefix = base.raw_path.split(b"?", 1)[0].rstrip(b"/")
    path = url.raw_path.split(b"?", 1)[0]
    if not (path == prefix or path.startswith(prefix + b"/")):
        return f"target path {path.decode('ascii', 'replace')} leaves the base path"
    for segment in path.split(b"/"):
        text = unquote(segment.decode("ascii", "replace"))
        if text in (".", "..") or "/" in text or "\\" in text:
            return f"target path {path.decode('ascii', 'replace')} has a traversal segment"
    return None


def origin(url: httpx.URL) -> str:
    """``scheme://host:port`` of a URL: safe to log (no path, query or userinfo)."""
    return f"{url.scheme}://{url.host}:{_port(url)}"


def safe_target(url: httpx.URL) -> str:
    """Origin and path, never the query (an authorizer may have put a key there)."""
    return origin(url) + url.raw_path.split(b"?", 1)[0].decode("ascii", "replace")
