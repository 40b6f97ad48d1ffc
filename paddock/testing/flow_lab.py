"""A small multi-domain world for information-flow tests and benchmarks (issue 17).

Two OpenAPI specs served by one recording local service:

- **Lab Office** (the operator's own systems, ``x-paddock-cloud: azure``): mail (an untrusted
  inbox, sending e-mail), banking (payees, an IBAN check that echoes its input, payments,
  vendor bank changes), vendor notes (written and read back), orders, hotel bookings, team
  channels (an untrusted channel feed, posting).
- **Lab Registry** (a third party, ``x-paddock-cloud: external``): lookups by query string,
  by path and by header, and a site fetch by bare domain.

``LabService.fixtures`` sets what the read endpoints return; every request is recorded in
``LabService.requests`` before anything else happens, so a test can assert that a forbidden
request never arrived.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from paddock.local.servers import LocalServer

OWN_TITLE = "Lab Office"
THIRD_TITLE = "Lab Registry"


def _op(
    op_id: str,
    *,
    effect: str = "read",
    params: list[dict[str, Any]] | None = None,
    body: dict[str, Any] | None = None,
    untrusted: bool = False,
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": op_id,
        "summary": op_id.replace("_", " "),
        "x-paddock-side-effect": effect,
        "responses": {"200": {"description": "ok", "content": {"application/json": {}}}},
    }
    if params:
        op["parameters"] = params
    if body is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": body}},
        }
    if untrusted:
        op["x-paddock-trust"] = "untrusted"
    return op


def _path(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _query(name: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": True, "schema": schema or {"type": "string"}}


def _obj(props: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": required,
        "properties": props,
    }


S = {"type": "string", "maxLength": 2000}


def own_spec(base_url: str) -> dict[str, Any]:
    paths = {
        "/inbox": {"get": _op("read_inbox", untrusted=True)},
        "/channels/{channel}/feed": {
            "get": _op("read_channel", params=[_path("channel")], untrusted=True)
        },
        "/channels/{channel}/messages": {
            "post": _op(
                "post_message",
                effect="write",
                params=[_path("channel")],
                body=_obj({"text": S}, ["text"]),
            )
        },
        "/emails": {
            "post": _op(
                "send_email",
                effect="write",
                body=_obj(
                    {
                        "to": {"type": "string", "format": "email"},
                        "cc": {"type": "array", "items": {"type": "string"}},
                        "subject": S,
                        "body": S,
                    },
                    ["to", "subject", "body"],
                ),
            )
        },
        "/payees": {"get": _op("list_payees")},
        "/vendors": {"get": _op("list_vendors")},
        "/calendar": {"get": _op("list_events")},
        "/iban/{iban}": {"get": _op("validate_iban", params=[_path("iban")])},
        "/payments": {
            "post": _op(
                "send_money",
                effect="write",
                body=_obj(
                    {"iban": S, "amount": {"type": "number"}, "reference": S},
                    ["iban", "amount"],
                ),
            )
        },
        "/vendors/{vendor_id}/bank": {
            "put": _op(
                "update_vendor_bank",
                effect="write",
                params=[_path("vendor_id")],
                body=_obj({"iban": S}, ["iban"]),
            )
        },
        "/notes": {
            "post": _op(
                "add_note",
                effect="write",
                body=_obj({"vendor_id": S, "text": S}, ["vendor_id", "text"]),
            )
        },
        "/notes/{vendor_id}": {"get": _op("get_notes", params=[_path("vendor_id")])},
        "/orders": {
            "post": _op(
                "create_order",
                effect="write",
                body=_obj(
                    {
                        "item": S,
                        "quantity": {"type": "integer"},
                        "unit_price": {"type": "number"},
                    },
                    ["item", "quantity"],
                ),
            )
        },
        "/bookings": {
            "post": _op(
                "book_hotel",
                effect="write",
                body=_obj(
                    {"hotel": S, "check_in": S, "check_out": S, "guests": {"type": "integer"}},
                    ["hotel", "check_in", "check_out"],
                ),
            )
        },
    }
    return _spec(OWN_TITLE, "azure", base_url, paths)


def third_spec(base_url: str) -> dict[str, Any]:
    header = {"name": "X-Account", "in": "header", "required": True, "schema": {"type": "string"}}
    paths = {
        "/registry/lookup": {"get": _op("registry_lookup", params=[_query("q")])},
        "/registry/accounts/{account}": {"get": _op("registry_account", params=[_path("account")])},
        "/registry/check": {"get": _op("registry_check", params=[header])},
        "/registry/site": {"get": _op("fetch_site", params=[_query("site")])},
        "/registry/rates": {"get": _op("exchange_rates", params=[_query("currency")])},
    }
    return _spec(THIRD_TITLE, "external", base_url, paths)


def _spec(title: str, cloud: str, base_url: str, paths: dict[str, Any]) -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {"title": title, "version": "1.0.0"},
        "x-paddock-cloud": cloud,
        "servers": [{"url": base_url}],
        "paths": paths,
    }


@dataclass
class Seen:
    """One request as the service received it."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: Any


@dataclass
class LabService:
    """The lab's HTTP service: records every request, answers from ``fixtures``."""

    fixtures: dict[str, Any] = field(default_factory=dict)
    requests: list[Seen] = field(default_factory=list)
    notes: dict[str, list[str]] = field(default_factory=dict)

    def app(self) -> Starlette:
        return Starlette(
            routes=[Route("/{rest:path}", self._handle, methods=["GET", "POST", "PUT"])]
        )

    async def _handle(self, request: Request) -> JSONResponse:
        raw = await request.body()
        body = json.loads(raw) if raw else None
        path = request.url.path
        self.requests.append(
            Seen(request.method, path, request.url.query, dict(request.headers), body)
        )
        return JSONResponse(self._answer(request.method, path, request, body))

    def _answer(self, method: str, path: str, request: Request, body: Any) -> Any:
        parts = path.strip("/").split("/")
        if method == "GET" and parts[0] == "iban":
            return {"iban": parts[1], "valid": True, "checked": "format and checksum"}
        if method == "POST" and path == "/notes":
            self.notes.setdefault(body["vendor_id"], []).append(body["text"])
            return {"saved": True}
        if method == "GET" and parts[0] == "notes":
            return {"vendor_id": parts[1], "notes": self.notes.get(parts[1], [])}
        if method == "GET":
            key = parts[-1] if parts[0] != "channels" else "feed"
            return self.fixtures.get(key, {"items": []})
        return {"ok": True, "id": f"ID-{len(self.requests):05d}"}

    def reset(self) -> None:
        self.requests.clear()
        self.notes.clear()
        self.fixtures.clear()


class Lab:
    """The running lab: the service on 127.0.0.1 and its two spec files."""

    def __init__(self, folder: Path) -> None:
        self.service = LabService()
        self._server = LocalServer(self.service.app(), name="flow-lab")
        self._folder = folder

    def __enter__(self) -> Lab:
        self._server.start()
        self._folder.mkdir(parents=True, exist_ok=True)
        for name, spec in (("own.json", own_spec(self.url)), ("third.json", third_spec(self.url))):
            (self._folder / name).write_text(json.dumps(spec), encoding="utf-8")
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop()

    @property
    def url(self) -> str:
        return self._server.url

    @property
    def spec_paths(self) -> list[str]:
        return [str(self._folder / "own.json"), str(self._folder / "third.json")]
