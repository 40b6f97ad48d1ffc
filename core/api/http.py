"""Framework-neutral HTTP request and response: what every adapter translates to and from."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

JSON = "application/json"


class JsonModel(Protocol):
    """A pydantic model, as far as rendering needs (this module stays free of pydantic, so
    the handlers import it at no cost)."""

    def model_dump_json(self) -> str: ...


@dataclass(frozen=True)
class ApiRequest:
    """One HTTP request as the core sees it, whatever carried it (API Gateway, Functions, ASGI).

    Header names may come in any case; use :meth:`header` to read them.
    """

    method: str
    path: str
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    request_id: str | None = None
    """The platform's id for this invocation (Lambda request id, Functions invocation id);
    used as the correlation id when the caller sent none."""

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return None


@dataclass
class ApiResponse:
    """Status, headers and an already-encoded body."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def json_response(
    status: int,
    payload: JsonModel | Mapping[str, Any] | None,
    headers: Mapping[str, str] | None = None,
) -> ApiResponse:
    """Encode ``payload`` (a pydantic model or plain JSON data) as a JSON response."""
    out = {"content-type": JSON}
    out.update({k.lower(): v for k, v in (headers or {}).items()})
    if payload is None:
        body = b""
        del out["content-type"]
    elif isinstance(payload, Mapping):
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    else:
        body = payload.model_dump_json().encode()
    return ApiResponse(status=status, headers=out, body=body)
