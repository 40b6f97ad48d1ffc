"""Every OpenAPI 3 parameter style and explode combination, against the spec's own table.

Expected strings are the "Style Examples" of the OpenAPI Specification 3.0.3 (section 4.7.12.4,
parameter ``color``: ``"blue"``, ``["blue", "black", "brown"]``, ``{"R": 100, "G": 200,
"B": 150}``), as they appear on the wire through ``build_wire`` (the executor's encoder).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import pytest

from core.domain import Param, ParamLocation
from core.execution._wire import build_wire
from tests.execution.backend import make_tool

STRING, ARRAY, OBJECT = "blue", ["blue", "black", "brown"], {"R": 100, "G": 200, "B": 150}

PATH_TABLE = [
    ("simple", False, STRING, "blue"),
    ("simple", False, ARRAY, "blue,black,brown"),
    ("simple", False, OBJECT, "R,100,G,200,B,150"),
    ("simple", True, STRING, "blue"),
    ("simple", True, ARRAY, "blue,black,brown"),
    ("simple", True, OBJECT, "R=100,G=200,B=150"),
    ("label", False, STRING, ".blue"),
    ("label", False, ARRAY, ".blue,black,brown"),
    ("label", False, OBJECT, ".R,100,G,200,B,150"),
    ("label", True, STRING, ".blue"),
    ("label", True, ARRAY, ".blue.black.brown"),
    ("label", True, OBJECT, ".R=100.G=200.B=150"),
    ("matrix", False, STRING, ";color=blue"),
    ("matrix", False, ARRAY, ";color=blue,black,brown"),
    ("matrix", False, OBJECT, ";color=R,100,G,200,B,150"),
    ("matrix", True, STRING, ";color=blue"),
    ("matrix", True, ARRAY, ";color=blue;color=black;color=brown"),
    ("matrix", True, OBJECT, ";R=100;G=200;B=150"),
]

QUERY_TABLE = [
    ("form", False, STRING, "color=blue"),
    ("form", False, ARRAY, "color=blue,black,brown"),
    ("form", False, OBJECT, "color=R,100,G,200,B,150"),
    ("form", True, STRING, "color=blue"),
    ("form", True, ARRAY, "color=blue&color=black&color=brown"),
    ("form", True, OBJECT, "R=100&G=200&B=150"),
    ("spaceDelimited", False, ARRAY, "color=blue%20black%20brown"),
    ("spaceDelimited", False, OBJECT, "color=R%20100%20G%20200%20B%20150"),
    ("pipeDelimited", False, ARRAY, "color=blue|black|brown"),
    ("pipeDelimited", False, OBJECT, "color=R|100|G|200|B|150"),
    ("deepObject", True, OBJECT, "color[R]=100&color[G]=200&color[B]=150"),
]


def _param(location: ParamLocation, style: str | None, explode: bool | None) -> Param:
    return Param(
        arg="color", name="color", location=location, required=True, style=style, explode=explode
    )


def _tool(param: Param, path: str = "/things") -> Any:
    return make_tool("https://api.example.test/v1", path=path, params=(param,))


@pytest.mark.parametrize(("style", "explode", "value", "expected"), PATH_TABLE)
def test_path_styles(style: str, explode: bool, value: Any, expected: str) -> None:
    tool = _tool(_param(ParamLocation.PATH, style, explode), path="/things/{color}")
    wire = build_wire(tool, {"color": value})
    assert wire.url.raw_path.decode() == f"/v1/things/{expected}"


@pytest.mark.parametrize(("style", "explode", "value", "expected"), QUERY_TABLE)
def test_query_styles(style: str, explode: bool, value: Any, expected: str) -> None:
    wire = build_wire(_tool(_param(ParamLocation.QUERY, style, explode)), {"color": value})
    query = wire.url.query.decode()
    # brackets are percent-encoded on the wire (RFC 3986 gen-delims), the rest as in the table
    assert query.replace("%5B", "[").replace("%5D", "]") == expected


@pytest.mark.parametrize(
    ("explode", "value", "expected"),
    [
        (False, STRING, "blue"),
        (False, ARRAY, "blue,black,brown"),
        (False, OBJECT, "R,100,G,200,B,150"),
        (True, ARRAY, "blue,black,brown"),
        (True, OBJECT, "R=100,G=200,B=150"),
    ],
)
def test_header_simple_style(explode: bool, value: Any, expected: str) -> None:
    wire = build_wire(_tool(_param(ParamLocation.HEADER, "simple", explode)), {"color": value})
    assert wire.headers["color"] == expected


@pytest.mark.parametrize(
    ("explode", "value", "expected"),
    [
        (False, STRING, "color=blue"),
        (False, ARRAY, "color=blue,black,brown"),
        (False, OBJECT, "color=R,100,G,200,B,150"),
        (True, STRING, "color=blue"),
        (True, ARRAY, "color=blue; color=black; color=brown"),
        (True, OBJECT, "R=100; G=200; B=150"),
    ],
)
def test_cookie_form_style(explode: bool, value: Any, expected: str) -> None:
    wire = build_wire(_tool(_param(ParamLocation.COOKIE, "form", explode)), {"color": value})
    assert wire.headers["Cookie"] == expected


def test_defaults_are_the_specs() -> None:
    """No style: path/header ``simple``, query/cookie ``form``; explode only for ``form``."""
    assert build_wire(_tool(_param(ParamLocation.QUERY, None, None)), {"color": ARRAY}).url.query
    found = build_wire(_tool(_param(ParamLocation.QUERY, None, None)), {"color": ARRAY})
    assert found.url.query.decode() == "color=blue&color=black&color=brown"
    path = build_wire(
        _tool(_param(ParamLocation.PATH, None, None), path="/t/{color}"), {"color": ARRAY}
    )
    assert path.url.raw_path.decode() == "/v1/t/blue,black,brown"


def test_values_are_encoded_before_delimiters_are_added() -> None:
    """A delimiter inside a value never reads as a delimiter."""
    wire = build_wire(
        _tool(_param(ParamLocation.QUERY, "pipeDelimited", False)), {"color": ["a|b", "c d"]}
    )
    assert wire.url.query.decode() == "color=a%7Cb|c%20d"
    form = build_wire(_tool(_param(ParamLocation.QUERY, "form", False)), {"color": ["a,b", "&"]})
    assert form.url.query.decode() == "color=a%2Cb,%26"
    assert [unquote(v) for v in form.url.query.decode()[6:].split(",")] == ["a,b", "&"]


def test_allow_reserved_and_content_serialised_parameters() -> None:
    reserved = Param(
        arg="q", name="q", location=ParamLocation.QUERY, allow_reserved=True, style="form"
    )
    assert build_wire(_tool(reserved), {"q": "a/b?c"}).url.query.decode() == "q=a/b?c"
    as_json = Param(
        arg="filter", name="filter", location=ParamLocation.QUERY, content_type="application/json"
    )
    wire = build_wire(_tool(as_json), {"filter": {"a": [1, 2]}})
    assert unquote(wire.url.query.decode()) == 'filter={"a":[1,2]}'


def test_path_values_that_would_leave_their_segment_are_refused() -> None:
    from core.errors import ExecutionError

    tool = _tool(_param(ParamLocation.PATH, "label", True), path="/t/{color}")
    with pytest.raises(ExecutionError, match="leave the templated path"):
        build_wire(tool, {"color": ["a", "../etc"]})
