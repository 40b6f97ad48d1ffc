"""Tools through JSON: the definition plus a binding that comes back as the same class."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from core.catalog import tools_from_document
from core.catalog.loader import load_document
from core.catalog.mcp import tools_from_listing
from core.domain import EngineBinding, HttpBinding, McpBinding, SideEffect, Tool, ToolDefinition
from core.drift.spec_diff import op_key
from core.orchestrator.tool_search import SEARCH_TOOL_DEF
from tests.catalog.helpers import SPECS

WIRE_FIELDS = {"method", "path", "base_url", "operation_id", "params", "body_content_type"}
LISTING = {
    "server": {"name": "records", "version": "2"},
    "tools": [
        {
            "name": "list.records",
            "description": "Records.",
            "inputSchema": {"type": "object", "properties": {"q": {"type": "string"}}},
            "outputSchema": {"type": "object", "required": ["records"]},
            "annotations": {"readOnlyHint": True},
        }
    ],
}


def roundtrip(tool: Tool) -> Tool:
    return Tool.model_validate_json(tool.model_dump_json())


def test_http_tools_from_a_real_spec_come_back_equal() -> None:
    document, raw = load_document(str(SPECS / "spapi_vendorOrders.json"))
    tools = tools_from_document(document, source="vendorOrders", raw=raw)
    assert tools and all(roundtrip(t) == t for t in tools)
    tool = next(t for t in tools if t.binding.params and t.responses)
    back = roundtrip(tool)
    assert isinstance(back.binding, HttpBinding) and back.binding == tool.binding
    assert back.binding.params[0] == tool.binding.params[0]
    data = json.loads(tool.model_dump_json())
    assert data["binding"]["kind"] == "http" and not WIRE_FIELDS & set(data)
    assert op_key(back) == f"{tool.binding.method} {tool.binding.path}"


def test_mcp_tools_come_back_equal_and_keep_no_operator_options() -> None:
    source = "mcp+stdio:records-server --port 0#read=list.records"
    [tool] = tools_from_listing(LISTING, source=source, raw=b"{}").tools
    assert tool.binding == McpBinding(
        server="mcp+stdio:records-server --port 0", tool="list.records"
    )
    assert (tool.name, tool.side_effect, tool.side_effect_hint) == (
        "list_records",
        SideEffect.READ,
        SideEffect.READ,
    )
    back = roundtrip(tool)
    assert back == tool and isinstance(back.binding, McpBinding)
    assert back.response_schema(200) == {"type": "object", "required": ["records"]}
    data = json.loads(tool.model_dump_json())
    assert data["binding"] == {"kind": "mcp", "server": tool.binding.server, "tool": "list.records"}
    assert op_key(back) == "MCP list.records"  # the key a stored catalog holds MCP tools by


def test_engine_tools_come_back_equal() -> None:
    back = roundtrip(SEARCH_TOOL_DEF)
    assert back == SEARCH_TOOL_DEF
    assert back.binding == EngineBinding(handler="catalog", name="search_tools")
    assert back.binding.endpoint is None


def test_an_unknown_binding_kind_or_the_old_flat_shape_is_refused() -> None:
    data = json.loads(SEARCH_TOOL_DEF.model_dump_json())
    data["binding"] = {"kind": "grpc", "service": "tools.Search"}
    with pytest.raises(ValidationError, match="does not match any of the expected tags"):
        Tool.model_validate(data)
    flat = {k: v for k, v in data.items() if k != "binding"}
    flat |= {"method": "GET", "path": "/x", "base_url": "http://h", "operation_id": "x"}
    with pytest.raises(ValidationError, match="binding"):
        Tool.model_validate(flat)


def test_the_definition_is_the_same_whatever_the_binding() -> None:
    [mcp] = tools_from_listing(LISTING, source="mcp+stdio:records-server", raw=b"{}").tools
    http = Tool(
        **mcp.model_dump(exclude={"binding"}),
        binding=HttpBinding(
            method="get", path="/records", base_url="https://records.test", operation_id="list"
        ),
    )
    assert http.binding.method == "GET"  # stored upper case
    as_definition = ToolDefinition.model_validate(http.model_dump(exclude={"binding"}))
    assert as_definition == ToolDefinition.model_validate(mcp.model_dump(exclude={"binding"}))
    assert http.binding.operation == "list" and mcp.binding.operation == "list.records"
