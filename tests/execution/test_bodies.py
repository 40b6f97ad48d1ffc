"""Request bodies by media type and Encoding Object, as a real server receives them."""

from __future__ import annotations

import base64
import email.parser
import json
from typing import Any
from urllib.parse import parse_qsl

from core.domain import BodyPart, HttpBinding, Param, ParamLocation, Tool
from core.execution import CallContext, HttpExecutor
from tests.execution.backend import Backend, make_tool

BODY = Param(arg="body", name="body", location=ParamLocation.BODY, required=True)


def _tool(base_url: str, media: str, *parts: BodyPart, file: bool = False) -> Tool:
    tool = make_tool(base_url, method="POST", params=(BODY,), body_content_type=media)
    assert isinstance(tool.binding, HttpBinding)
    binding = tool.binding.model_copy(update={"body_parts": parts, "body_file": file})
    return tool.model_copy(update={"binding": binding})


def _multipart(content_type: str, body: bytes) -> list[tuple[str, str | None, str, bytes]]:
    """(name, filename, content type, bytes) of each part, parsed by the standard library."""
    message = email.parser.BytesParser().parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    found = []
    for part in message.get_payload():  # type: ignore[union-attr]
        found.append(
            (
                part.get_param("name", header="content-disposition"),
                part.get_filename(),
                part.get_content_type(),
                part.get_payload(decode=True),
            )
        )
    return found


def test_form_body_with_deep_objects_like_stripe(
    backend: Backend, base_url: str, executor: HttpExecutor, ctx: CallContext
) -> None:
    deep = BodyPart(name="metadata", style="deepObject", explode=True)
    items = BodyPart(name="items", style="deepObject", explode=True)
    expand = BodyPart(name="expand", style="deepObject", explode=True)
    tool = _tool(base_url, "application/x-www-form-urlencoded", deep, items, expand)
    body: dict[str, Any] = {
        "email": "a+b@example.com",
        "metadata": {"order": "42", "note": "a&b=c"},
        "items": [{"price": "price_1", "quantity": 2}],
        "expand": ["customer", "invoice"],
        "tags": ["x", "y"],
        "livemode": False,
    }
    assert executor.execute(tool, {"body": body}, ctx).ok
    (seen,) = backend.seen
    assert seen.headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qsl(seen.body.decode()) == [
        ("email", "a+b@example.com"),
        ("metadata[order]", "42"),
        ("metadata[note]", "a&b=c"),
        ("items[0][price]", "price_1"),
        ("items[0][quantity]", "2"),
        ("expand[0]", "customer"),
        ("expand[1]", "invoice"),
        ("tags", "x"),  # no encoding: form, exploded
        ("tags", "y"),
        ("livemode", "false"),
    ]


def test_form_field_encoded_as_json_and_delimited(
    backend: Backend, base_url: str, executor: HttpExecutor, ctx: CallContext
) -> None:
    tool = _tool(
        base_url,
        "application/x-www-form-urlencoded",
        BodyPart(name="filter", content_type="application/json"),
        BodyPart(name="ids", style="pipeDelimited", explode=False),
    )
    body = {"filter": {"a": [1]}, "ids": ["1", "2"]}
    assert executor.execute(tool, {"body": body}, ctx).ok
    assert parse_qsl(backend.seen[0].body.decode()) == [("filter", '{"a":[1]}'), ("ids", "1|2")]


def test_multipart_fields_json_parts_and_files(
    backend: Backend, base_url: str, executor: HttpExecutor, ctx: CallContext
) -> None:
    tool = _tool(
        base_url,
        "multipart/form-data",
        BodyPart(name="file", file=True, content_type="image/png"),
        BodyPart(name="link", style="deepObject", explode=True),
    )
    png = b"\x89PNG\r\n\x1a\n\x00binary"
    body = {
        "purpose": "dispute_evidence",
        "file": base64.b64encode(png).decode(),
        "link": {"create": True},
        "meta": {"k": "v"},
    }
    assert executor.execute(tool, {"body": body}, ctx).ok
    (seen,) = backend.seen
    assert seen.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert _multipart(seen.headers["content-type"], seen.body) == [
        ("purpose", None, "text/plain", b"dispute_evidence"),
        ("file", "file", "image/png", png),
        ("link[create]", None, "text/plain", b"true"),
        ("meta", None, "application/json", b'{"k":"v"}'),
    ]


def test_file_content_only_from_the_arguments_never_a_path(
    backend: Backend, base_url: str, executor: HttpExecutor, ctx: CallContext
) -> None:
    """The attack: a planner names a local file hoping the executor uploads it."""
    tool = _tool(base_url, "application/octet-stream", file=True)
    refused = executor.execute(tool, {"body": "C:\\secrets.txt"}, ctx)
    assert refused.refused == "body: file content is not valid base64"
    assert executor.execute(tool, {"body": "/etc/passwd"}, ctx).ok  # valid base64 characters
    sneaky = base64.b64encode(b"/etc/passwd").decode()
    assert executor.execute(tool, {"body": sneaky}, ctx).ok
    first, second = backend.seen
    assert first.body == base64.b64decode("/etc/passwd=")  # the decoded text, never the file
    assert second.body == b"/etc/passwd"  # the bytes given, not the file's content
    assert second.headers["content-type"] == "application/octet-stream"


def test_text_and_base64_text_bodies_go_as_written(
    backend: Backend, base_url: str, executor: HttpExecutor, ctx: CallContext
) -> None:
    text = _tool(base_url, "text/plain; charset=utf-8")
    byte = _tool(base_url, "application/octet-stream")  # format: byte: base64 text
    vendor_json = _tool(base_url, "application/vnd.api+json")
    assert executor.execute(text, {"body": "héllo"}, ctx).ok
    assert executor.execute(byte, {"body": "aGVsbG8="}, ctx).ok
    assert executor.execute(vendor_json, {"body": {"data": {"id": "1"}}}, ctx).ok
    first, second, third = backend.seen
    assert (first.body.decode(), first.headers["content-type"]) == (
        "héllo",
        "text/plain; charset=utf-8",
    )
    assert second.body == b"aGVsbG8="
    assert third.headers["content-type"] == "application/vnd.api+json"
    assert json.loads(third.body) == {"data": {"id": "1"}}
