"""``core.schema_errors``: one line per problem, sorted by path, bounded, in one vocabulary."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator

from core.schema_errors import json_path, render_errors, schema_problems


def lines(schema: dict[str, Any], instance: Any, **kwargs: Any) -> list[str]:
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    return render_errors(validator.iter_errors(instance), **kwargs)


def one(schema: dict[str, Any], instance: Any) -> str:
    [line] = lines(schema, instance)
    return line


@pytest.mark.parametrize(
    ("schema", "instance", "expected"),
    [
        ({"type": "integer"}, "7", '$: expected integer, got string "7"'),
        ({"type": ["array", "null"]}, 1.5, "$: expected array or null, got number 1.5"),
        ({"type": "string"}, None, "$: expected string, got null"),
        ({"type": "string"}, True, "$: expected string, got boolean true"),
        ({"enum": ["a", 1]}, "b", '$: expected one of ["a", 1], got "b"'),
        ({"const": "EUR"}, "USD", '$: expected "EUR", got "USD"'),
        (
            {"pattern": "^P-\\d{3}$"},
            "../x",
            "$: expected a string matching the pattern '^P-\\d{3}$', got \"../x\"",
        ),
        ({"format": "date"}, "soon", '$: expected a valid date, got "soon"'),
        ({"minimum": 1}, 0, "$: expected >= 1, got 0"),
        ({"maximum": 9}, 10, "$: expected <= 9, got 10"),
        ({"exclusiveMinimum": 0}, 0, "$: expected > 0, got 0"),
        ({"exclusiveMaximum": 5}, 5, "$: expected < 5, got 5"),
        ({"multipleOf": 0.5}, 0.7, "$: expected a multiple of 0.5, got 0.7"),
        ({"maxLength": 3}, "abcd", "$: expected at most 3 characters, got 4"),
        ({"minLength": 2}, "a", "$: expected at least 2 characters, got 1"),
        ({"minItems": 1}, [], "$: expected at least 1 items, got 0"),
        ({"uniqueItems": True}, [1, 1], "$: [1, 1] has non-unique elements"),
    ],
)
def test_each_keyword_reads_expected_then_got(
    schema: dict[str, Any], instance: Any, expected: str
) -> None:
    assert one(schema, instance) == expected


def test_a_missing_or_unexpected_property_is_named_by_its_own_path() -> None:
    schema = {
        "type": "object",
        "required": ["id", "name"],
        "properties": {"id": {}, "name": {}, "x": {}},
        "patternProperties": {"^meta_": {}},
        "additionalProperties": False,
    }
    assert lines(schema, {"x": 1, "meta_a": 2, "b": 3, "a": 4}) == [
        "$.a: unexpected property; allowed: id, name, x",
        "$.b: unexpected property; allowed: id, name, x",
        "$.id: 'id' is a required property",
        "$.name: 'name' is a required property",
    ]


def test_paths_sort_array_indices_numerically_and_quote_odd_keys() -> None:
    item = {"type": "object", "properties": {"q": {"type": "integer"}}}
    schema = {"type": "array", "items": item}
    found = lines(schema, [{"q": "x"}] * 11)
    assert found[:3] == [f'$[{i}].q: expected integer, got string "x"' for i in (0, 1, 2)]
    assert found[-1] == '$[10].q: expected integer, got string "x"'
    assert json_path(["a b", 0, "c'd", "ok_1"], root="args") == "args['a b'][0]['c\\'d'].ok_1"


def test_the_closest_alternative_is_reported_at_its_own_depth() -> None:
    schema = {
        "oneOf": [
            {"type": "string"},
            {
                "type": "object",
                "required": ["kind"],
                "properties": {"kind": {"enum": ["a"]}, "n": {"type": "integer"}},
            },
        ]
    }
    assert lines(schema, {"kind": "a", "n": "1"}, root="body") == [
        "body: matches none of the oneOf alternatives "
        '(closest: body.n: expected integer, got string "1")'
    ]


def test_the_count_is_bounded_and_the_rest_is_counted() -> None:
    schema = {"type": "object", "additionalProperties": {"type": "integer"}}
    found = lines(schema, {f"k{i}": "x" for i in range(7)}, root="args", limit=3)
    assert found == [
        'args.k0: expected integer, got string "x"',
        'args.k1: expected integer, got string "x"',
        'args.k2: expected integer, got string "x"',
        "args: and 4 more schema errors",
    ]


def test_long_values_option_lists_and_messages_are_cut() -> None:
    long = "x" * 500
    assert len(one({"type": "integer"}, long)) < 100
    options = one({"enum": list(range(20))}, 99)
    assert options == "$: expected one of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, ...], got 99"
    assert one({"not": {}}, long).endswith("…") and len(one({"not": {}}, long)) < 210


def test_problems_keep_path_and_message_apart() -> None:
    validator = Draft202012Validator({"properties": {"qty": {"minimum": 1}}})
    [problem] = schema_problems(validator.iter_errors({"qty": 0}), root="body")
    assert (problem.path, problem.where, problem.message) == (
        ("qty",),
        "body.qty",
        "expected >= 1, got 0",
    )
    assert str(problem) == "body.qty: expected >= 1, got 0"


def test_a_valid_instance_has_no_lines() -> None:
    assert lines({"type": "object"}, {}) == []
