"""Parameter values on the wire, by OpenAPI 3 ``style`` and ``explode`` (RFC 6570 flavoured).

Each function turns one argument value into what its location carries: a path segment, query
pairs, a header value, cookie pairs. Values are percent-encoded before delimiters are added,
so a ``,`` or ``|`` inside a value never reads as a delimiter. ``deepObject`` follows the
bracket convention for nesting (``filter[created][gt]=1``, ``ids[0]=a``): OpenAPI defines one
level only, and the vendors that nest (Stripe) read brackets this way.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from core.domain import Param
from core.errors import ExecutionError

Pairs = list[tuple[str, str]]
_UNRESERVED = "-._~"
_RESERVED = ":/?#[]@!$&'()*+,;="
_DELIMITERS = {"spaceDelimited": "%20", "pipeDelimited": "|"}


def refuse(message: str) -> ExecutionError:
    return ExecutionError(message, retryable=False)


def scalar(value: Any) -> str:
    """A primitive as text (booleans lower case, ``None`` empty, others JSON)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def pct(text: str, *, reserved: bool = False) -> str:
    """Percent-encode everything but unreserved characters (and reserved ones if allowed)."""
    return quote(text, safe=_UNRESERVED + (_RESERVED if reserved else ""))


def flatten_deep(name: str, value: Any) -> Pairs:
    """``deepObject``: ``name[key]=v`` for every leaf, lists by index (not encoded here)."""
    if isinstance(value, dict):
        found: Pairs = []
        for key, item in value.items():
            found.extend(flatten_deep(f"{name}[{key}]", item))
        return found
    if isinstance(value, list | tuple):
        found = []
        for index, item in enumerate(value):
            found.extend(flatten_deep(f"{name}[{index}]", item))
        return found
    return [(name, scalar(value))]


def _items(value: Any) -> list[tuple[str, str]] | list[str] | str:
    """The value as object pairs, list items, or one scalar (nested values as JSON)."""
    if isinstance(value, dict):
        return [(str(k), scalar(v)) for k, v in value.items()]
    if isinstance(value, list | tuple):
        return [scalar(v) for v in value]
    return scalar(value)


def content_value(param: Param, value: Any) -> str:
    """A parameter serialised with a media type (``content``): JSON, else the text itself."""
    if param.content_type and "json" in param.content_type.lower():
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return scalar(value)


def path_value(param: Param, value: Any) -> str:
    """Path styles ``simple`` (default), ``label`` and ``matrix``; explode defaults to off.

    The result is already percent-encoded; a value that would leave its segment is refused.
    """
    if param.content_type:
        return _segment(param, content_value(param, value))
    style, explode = param.style or "simple", bool(param.explode)
    name = pct(param.name)
    items = _items(value)
    if isinstance(items, str):
        piece = _segment(param, items)
        return {"label": f".{piece}", "matrix": f";{name}={piece}"}.get(style, piece)
    if not items:
        raise refuse(f"path parameter {param.name!r} is empty")
    if isinstance(items[0], tuple):
        pairs = [(_segment(param, k), _segment(param, v)) for k, v in items]
        joined = [f"{k}={v}" for k, v in pairs] if explode else [f"{k},{v}" for k, v in pairs]
        if style == "matrix":
            return ";" + ";".join(joined) if explode else f";{name}=" + ",".join(joined)
    else:
        pieces = [_segment(param, str(v)) for v in items]
        if style == "matrix":
            if explode:
                return "".join(f";{name}={v}" for v in pieces)
            return f";{name}=" + ",".join(pieces)
        joined = pieces
    if style == "label":
        return "." + ("." if explode else ",").join(joined)
    return ",".join(joined)


def _segment(param: Param, raw: str) -> str:
    if raw in ("", ".", "..") or "/" in raw or "\\" in raw:
        raise refuse(
            f"path parameter {param.name!r} value {raw!r} refused: it would leave "
            f"the templated path"
        )
    return pct(raw)


def query_pairs(param: Param, value: Any) -> list[str]:
    """Query styles ``form`` (default), ``spaceDelimited``, ``pipeDelimited``, ``deepObject``
    as encoded ``name=value`` strings; explode defaults to on for ``form`` only."""
    reserved = param.allow_reserved
    name = pct(param.name)
    if param.content_type:
        return [f"{name}={pct(content_value(param, value), reserved=reserved)}"]
    style = param.style or "form"
    explode = param.explode if param.explode is not None else style == "form"
    if style == "deepObject":
        return [f"{pct(k)}={pct(v, reserved=reserved)}" for k, v in flatten_deep(param.name, value)]
    items = _items(value)
    if isinstance(items, str):
        return [f"{name}={pct(items, reserved=reserved)}"]
    if items and isinstance(items[0], tuple):
        pairs = [(pct(k), pct(v, reserved=reserved)) for k, v in items]
        if explode:
            return [f"{k}={v}" for k, v in pairs]
        sep = _DELIMITERS.get(style, ",")
        return [f"{name}=" + sep.join(x for kv in pairs for x in kv)]
    values = [pct(str(v), reserved=reserved) for v in items]
    if explode:
        return [f"{name}={v}" for v in values]
    return [f"{name}=" + _DELIMITERS.get(style, ",").join(values)]


def header_value(param: Param, value: Any) -> str:
    """Header style ``simple``: lists joined by ``,``; objects ``k,v`` (``k=v`` exploded)."""
    if param.content_type:
        return content_value(param, value)
    items = _items(value)
    if isinstance(items, str):
        return items
    if items and isinstance(items[0], tuple):
        sep = "=" if param.explode else ","
        return ",".join(f"{k}{sep}{v}" for k, v in items)
    return ",".join(str(v) for v in items)


def cookie_pairs(param: Param, value: Any) -> list[str]:
    """Cookie style ``form``: ``name=a,b`` (explode off), ``name=a; name=b`` or ``k=v`` pairs
    exploded (the default); values percent-encoded."""
    name = pct(param.name)
    if param.content_type:
        return [f"{name}={pct(content_value(param, value))}"]
    explode = param.explode if param.explode is not None else True
    items = _items(value)
    if isinstance(items, str):
        return [f"{name}={pct(items)}"]
    if items and isinstance(items[0], tuple):
        pairs = [(pct(k), pct(v)) for k, v in items]
        if explode:
            return [f"{k}={v}" for k, v in pairs]
        return [f"{name}=" + ",".join(x for kv in pairs for x in kv)]
    values = [pct(str(v)) for v in items]
    if explode:
        return [f"{name}={v}" for v in values]
    return [f"{name}=" + ",".join(values)]
