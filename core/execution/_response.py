"""Reading a response body within a byte budget, and parsing it."""

from __future__ import annotations

import codecs
import json
from typing import Any

import httpx

from core.errors import ExecutionError


def read_bounded(response: httpx.Response, limit: int) -> bytes:
    """The (decoded) body, streamed; more than ``limit`` bytes raises instead of buffering."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ExecutionError(
            f"response body of {declared} bytes exceeds the limit of {limit} bytes",
            retryable=False,
            status_code=response.status_code,
        )
    chunks: list[bytes] = []
    total = 0
    for chunk in response.iter_bytes():
        total += len(chunk)
        if total > limit:
            raise ExecutionError(
                f"response body exceeds the limit of {limit} bytes",
                retryable=False,
                status_code=response.status_code,
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media in ("", "application/json") or media.endswith("+json")


def _charset(response: httpx.Response) -> str:
    name = response.charset_encoding or "utf-8"
    try:
        return codecs.lookup(name).name
    except LookupError:
        return "utf-8"


def parse_body(response: httpx.Response, data: bytes) -> Any:
    """JSON when the response says JSON (or says nothing) and parses; text otherwise."""
    if not data:
        return None
    text = data.decode(_charset(response), errors="replace")
    if _is_json(response.headers.get("content-type", "")):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def response_headers(response: httpx.Response) -> dict[str, str]:
    """Header names in lower case; repeated headers joined with ``, ``."""
    out: dict[str, str] = {}
    for name, value in response.headers.multi_items():
        key = name.lower()
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out
