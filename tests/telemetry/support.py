"""Shared pieces of the telemetry tests: an in-memory span recorder per cloud and a small real
HTTP service that records the headers it receives."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from core.domain import Location, Param, ParamLocation, ProposedCall, SideEffect, Tool
from core.telemetry.exporters import span_to_dict
from core.telemetry.setup import build_provider
from core.telemetry.tracing import RunTracer
from tests.tools import http_tool


@dataclass
class Recorder:
    """Spans of one process (one cloud), kept in memory."""

    cloud: str = "local"
    exporter: InMemorySpanExporter = field(default_factory=InMemorySpanExporter)

    def __post_init__(self) -> None:
        self.provider = build_provider(cloud=self.cloud, extra=[self.exporter])

    def tracer(self, **kw: Any) -> RunTracer:
        return RunTracer(tracer=self.provider.get_tracer("paddock"), cloud=self.cloud, **kw)

    def spans(self) -> list[dict[str, Any]]:
        return [span_to_dict(s) for s in self.exporter.get_finished_spans()]


def by_id(spans: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {s["span_id"]: s for s in spans}


def parent_of(span: dict[str, Any], spans: list[dict[str, Any]]) -> dict[str, Any] | None:
    return by_id(spans).get(span["parent_id"]) if span["parent_id"] else None


def named(spans: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [s for s in spans if s["name"] == name]


def everything(spans: list[dict[str, Any]]) -> str:
    """All exported text of the spans, for "never appears" checks."""
    return json.dumps(spans, default=str)


def call(tool: str, **args: Any) -> ProposedCall:
    return ProposedCall(id="", tool=tool, args=args)


class EchoService:
    """GET /stock/{item} and POST /notes; records each request's headers and body."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.app = Starlette(
            routes=[
                Route("/stock/{item}", self.stock, methods=["GET"]),
                Route("/notes", self.note, methods=["POST"]),
            ]
        )

    async def stock(self, request: Request) -> JSONResponse:
        self.requests.append({"headers": dict(request.headers), "body": None})
        return JSONResponse({"item": request.path_params["item"], "stock": 3})

    async def note(self, request: Request) -> JSONResponse:
        self.requests.append({"headers": dict(request.headers), "body": await request.json()})
        return JSONResponse({"saved": True}, status_code=201)


def echo_tools(base_url: str, *, note_cloud: Location = Location.EXTERNAL) -> list[Tool]:
    item = Param(arg="item", name="item", location=ParamLocation.PATH, required=True)
    return [
        http_tool(
            name="get_stock",
            operation_id="get_stock",
            description="Stock of an item.",
            args_schema={
                "type": "object",
                "required": ["item"],
                "properties": {"item": {"type": "string"}},
            },
            params=(item,),
            method="GET",
            path="/stock/{item}",
            base_url=base_url,
            location=Location.AWS,
        ),
        http_tool(
            name="save_note",
            operation_id="save_note",
            description="Save a note.",
            args_schema={
                "type": "object",
                "required": ["body"],
                "properties": {"body": {"type": "object"}},
            },
            params=(Param(arg="body", name="body", location=ParamLocation.BODY, required=True),),
            method="POST",
            path="/notes",
            base_url=base_url,
            side_effect=SideEffect.WRITE,
            location=note_cloud,
        ),
    ]


def walk_up(span: dict[str, Any], spans: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    current: dict[str, Any] | None = span
    while current is not None:
        yield current
        current = parent_of(current, spans)
