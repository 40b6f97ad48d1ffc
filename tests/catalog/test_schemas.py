"""Schema conversion: recursion, nullability, composition and every constraint kept."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tests.catalog.helpers import accepts, one, openapi, post_body, result_of, validator

TREE = {
    "type": "object",
    "required": ["name"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "children": {"type": "array", "items": {"$ref": "#/components/schemas/Tree"}},
    },
}


def _nested(depth: int, leaf_name: str = "leaf") -> dict[str, Any]:
    node: dict[str, Any] = {"name": leaf_name}
    for level in range(depth):
        node = {"name": f"n{level}", "children": [node, {"name": "x"}]}
    return node


def test_recursive_schema_is_kept_in_defs_and_validates_at_any_depth() -> None:
    tool = one(openapi(post_body({"$ref": "#/components/schemas/Tree"}), schemas={"Tree": TREE}))
    schema = tool.args_schema
    assert schema["properties"]["body"] == {"$ref": "#/$defs/Tree"}
    tree = schema["$defs"]["Tree"]
    assert tree["properties"]["children"]["items"] == {"$ref": "#/$defs/Tree"}
    check = validator(tool)
    assert check.is_valid({"body": _nested(12)})
    assert not check.is_valid({"body": _nested(12, leaf_name="")})  # minLength, 13 deep
    bad = _nested(6)
    bad["children"][0]["children"][0]["surprise"] = 1  # additionalProperties, deep down
    assert not check.is_valid({"body": bad})


def test_mutual_recursion_and_a_shared_non_recursive_ref() -> None:
    schemas = {
        "Folder": {
            "type": "object",
            "properties": {
                "files": {"type": "array", "items": {"$ref": "#/components/schemas/File"}},
                "owner": {"$ref": "#/components/schemas/User"},
            },
        },
        "File": {
            "type": "object",
            "required": ["size"],
            "properties": {
                "size": {"type": "integer", "minimum": 0},
                "parent": {"$ref": "#/components/schemas/Folder"},
                "owner": {"$ref": "#/components/schemas/User"},
            },
        },
        "User": {"type": "object", "properties": {"email": {"type": "string", "format": "email"}}},
    }
    tool = one(openapi(post_body({"$ref": "#/components/schemas/Folder"}), schemas=schemas))
    assert set(tool.args_schema["$defs"]) == {"Folder", "File"}  # User is inlined
    assert tool.args_schema["$defs"]["File"]["properties"]["owner"]["properties"]["email"]
    body: Any = {"files": [{"size": 3, "parent": {"files": [{"size": 1}]}}]}
    assert accepts(tool, {"body": body})
    body["files"][0]["parent"]["files"][0]["size"] = -1
    assert not accepts(tool, {"body": body})


def test_self_reference_through_allof_does_not_loop() -> None:
    schemas = {
        "Node": {
            "allOf": [{"$ref": "#/components/schemas/Base"}],
            "properties": {"next": {"$ref": "#/components/schemas/Node"}},
        },
        "Base": {"type": "object", "properties": {"id": {"type": "integer"}}},
    }
    tool = one(openapi(post_body({"$ref": "#/components/schemas/Node"}), schemas=schemas))
    assert accepts(tool, {"body": {"id": 1, "next": {"id": 2, "next": {"id": 3}}}})
    assert not accepts(tool, {"body": {"id": 1, "next": {"id": "two"}}})


def test_openapi_31_type_list_with_null_is_kept() -> None:
    tool = one(
        openapi(
            post_body(
                {
                    "type": "object",
                    "properties": {"note": {"type": ["string", "null"], "maxLength": 3}},
                }
            ),
            version="3.1.0",
        )
    )
    assert tool.args_schema["properties"]["body"]["properties"]["note"]["type"] == [
        "string",
        "null",
    ]
    assert accepts(tool, {"body": {"note": None}})
    assert accepts(tool, {"body": {"note": "abc"}})
    assert not accepts(tool, {"body": {"note": "abcd"}})
    assert not accepts(tool, {"body": {"note": 5}})


@pytest.mark.parametrize(
    ("prop", "good", "bad"),
    [
        ({"type": "string", "nullable": True}, "x", 5),
        ({"type": "string", "enum": ["a", "b"], "nullable": True}, "a", "c"),
        ({"allOf": [{"$ref": "#/components/schemas/Code"}], "nullable": True}, "AB", "abc"),
        ({"$ref": "#/components/schemas/Code", "nullable": True}, "AB", "abc"),
    ],
)
def test_openapi_30_nullable_becomes_a_null_union(
    prop: dict[str, Any], good: Any, bad: Any
) -> None:
    tool = one(
        openapi(
            post_body({"type": "object", "properties": {"v": prop}}),
            schemas={"Code": {"type": "string", "pattern": "^[A-Z]{2}$"}},
        )
    )
    assert "nullable" not in str(tool.args_schema)
    assert accepts(tool, {"body": {"v": None}})
    assert accepts(tool, {"body": {"v": good}})
    assert not accepts(tool, {"body": {"v": bad}})


def test_allof_oneof_and_discriminator_are_preserved_and_enforced() -> None:
    schemas = {
        "Pet": {
            "type": "object",
            "required": ["kind"],
            "properties": {"kind": {"type": "string"}, "name": {"type": "string"}},
        },
        "Cat": {
            "allOf": [
                {"$ref": "#/components/schemas/Pet"},
                {"type": "object", "properties": {"lives": {"type": "integer", "maximum": 9}}},
            ]
        },
        "Dog": {
            "allOf": [
                {"$ref": "#/components/schemas/Pet"},
                {"type": "object", "properties": {"bark": {"type": "boolean"}}},
            ]
        },
    }
    body = {
        "oneOf": [{"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Dog"}],
        "discriminator": {
            "propertyName": "kind",
            "mapping": {"cat": "#/components/schemas/Cat", "dog": "Dog"},
        },
    }
    tool = one(openapi(post_body(body), schemas=schemas))
    converted = tool.args_schema["properties"]["body"]
    assert converted["discriminator"] == {
        "propertyName": "kind",
        "mapping": {"cat": "Cat", "dog": "Dog"},
    }
    assert len(converted["oneOf"]) == 2 and "allOf" in str(converted["oneOf"][0])
    # Cat and Dog overlap structurally; the discriminator value is what tells them apart
    assert accepts(tool, {"body": {"kind": "cat", "lives": 7}})
    assert accepts(tool, {"body": {"kind": "dog", "bark": True}})
    assert not accepts(tool, {"body": {"kind": "cow"}})
    assert not accepts(tool, {"body": {"kind": "cat", "lives": 10}})
    assert not accepts(tool, {"body": {"lives": 1}})  # required from Pet, through allOf


def test_anyof_is_preserved() -> None:
    tool = one(
        openapi(
            post_body(
                {"anyOf": [{"type": "string", "maxLength": 2}, {"type": "integer", "minimum": 10}]}
            )
        )
    )
    assert accepts(tool, {"body": "ab"}) and accepts(tool, {"body": 11})
    assert not accepts(tool, {"body": "abc"}) and not accepts(tool, {"body": 9})


CONSTRAINED = {
    "type": "object",
    "additionalProperties": False,
    "required": ["code", "qty", "tags", "status", "price", "when"],
    "properties": {
        "code": {"type": "string", "pattern": "^P-[0-9]+$", "minLength": 3, "maxLength": 8},
        "qty": {"type": "integer", "minimum": 1, "maximum": 500, "multipleOf": 5},
        "tags": {
            "type": "array",
            "items": {"type": "string"},
            "minItems": 1,
            "maxItems": 2,
            "uniqueItems": True,
        },
        "status": {"type": "string", "enum": ["open", "closed"]},
        "price": {
            "type": "number",
            "minimum": 0,
            "exclusiveMinimum": True,
            "maximum": 100,
            "exclusiveMaximum": True,
        },
        "when": {"type": "string", "format": "date"},
        "meta": {"type": "object", "maxProperties": 1, "additionalProperties": {"type": "string"}},
    },
}
GOOD = {
    "code": "P-100",
    "qty": 500,
    "tags": ["a"],
    "status": "open",
    "price": 99.5,
    "when": "2024-01-31",
    "meta": {"k": "v"},
}


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("code", "X-100"),
        ("code", "P-"),
        ("code", "P-12345678"),
        ("qty", 0),
        ("qty", 501),
        ("qty", 7),
        ("tags", []),
        ("tags", ["a", "b", "c"]),
        ("tags", ["a", "a"]),
        ("status", "pending"),
        ("price", 0),
        ("price", 100),
        ("meta", {"a": "1", "b": "2"}),
        ("meta", {"a": 1}),
        ("extra", 1),
    ],
)
def test_enum_pattern_bounds_and_additional_properties_reject_bad_values(
    field: str, bad: Any
) -> None:
    tool = one(openapi(post_body(CONSTRAINED)))
    assert accepts(tool, {"body": GOOD})
    assert not accepts(tool, {"body": {**GOOD, field: bad}})


def test_constraint_keywords_survive_conversion() -> None:
    tool = one(openapi(post_body(CONSTRAINED)))
    body = tool.args_schema["properties"]["body"]
    assert body["additionalProperties"] is False
    assert body["properties"]["price"]["exclusiveMinimum"] == 0  # 3.0 flag -> 2020-12 number
    assert "minimum" not in body["properties"]["price"]
    assert body["properties"]["when"]["format"] == "date"


def test_read_only_is_not_sent_and_write_only_is_not_required_back() -> None:
    user = {
        "type": "object",
        "required": ["id", "password", "name"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "string", "readOnly": True},
            "password": {"type": "string", "writeOnly": True},
            "name": {"type": "string"},
        },
    }
    paths = {
        "/users": {
            "post": {
                "operationId": "createUser",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/User"}}
                    },
                },
                "responses": {
                    "201": {
                        "description": "made",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/User"}}
                        },
                    }
                },
            }
        }
    }
    tool = one(openapi(paths, schemas={"User": user}))
    assert accepts(tool, {"body": {"name": "ada", "password": "pw"}})
    assert not accepts(tool, {"body": {"id": "1", "name": "ada", "password": "pw"}})
    response = tool.response_schema(201)
    assert response is not None
    Draft202012Validator.check_schema(response)
    assert Draft202012Validator(response).is_valid({"id": "1", "name": "ada"})
    assert not Draft202012Validator(response).is_valid({"name": "ada"})


def test_openapi_keywords_become_json_schema() -> None:
    prop = {
        "type": "string",
        "example": "x",
        "x-internal": True,
        "xml": {"name": "v"},
        "externalDocs": {"url": "https://d.example"},
        "nullable": False,
    }
    tool = one(openapi(post_body({"type": "object", "properties": {"v": prop}})))
    converted = tool.args_schema["properties"]["body"]["properties"]["v"]
    assert converted == {"type": "string", "examples": ["x"]}
    Draft202012Validator.check_schema(tool.args_schema)


def test_invalid_pattern_is_dropped_with_a_warning() -> None:
    tool = one(openapi(post_body({"type": "string", "pattern": "^(?:[\\w-./:]+)$"})))
    Draft202012Validator.check_schema(tool.args_schema)
    assert "pattern" not in tool.args_schema["properties"]["body"]
    assert any("pattern" in w and "dropped" in w for w in tool.warnings)


@pytest.mark.usefixtures("warn_refs")
def test_unresolvable_ref_is_a_warning_not_a_crash() -> None:
    tool = one(openapi(post_body({"$ref": "#/components/schemas/Missing"})))
    assert tool.args_schema["properties"]["body"] == {}
    assert any("Missing" in w for w in tool.warnings)


def test_no_limit_on_parameters() -> None:
    params = [
        {
            "name": f"p{i}",
            "in": "query",
            "required": i % 2 == 0,
            "schema": {"type": "integer", "maximum": i},
        }
        for i in range(300)
    ]
    tool = one(
        openapi(
            {
                "/wide": {
                    "get": {
                        "operationId": "wide",
                        "parameters": params,
                        "responses": {"200": {"description": "ok"}},
                    }
                }
            }
        )
    )
    assert len(tool.binding.params) == 300
    assert len(tool.args_schema["properties"]) == 300
    assert len(tool.args_schema["required"]) == 150
    args = {f"p{i}": 0 for i in range(0, 300, 2)}
    assert accepts(tool, args)
    assert not accepts(tool, {**args, "p299": 300})


def test_recursive_response_schema_has_its_own_defs() -> None:
    paths = {
        "/tree": {
            "get": {
                "operationId": "getTree",
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Tree"}}
                        },
                    }
                },
            }
        }
    }
    result = result_of(openapi(paths, schemas={"Tree": TREE}))
    schema = result.tools[0].response_schema(200)
    assert schema is not None and schema["$ref"] == "#/$defs/Tree"
    assert Draft202012Validator(schema).is_valid(_nested(5))
    assert not Draft202012Validator(schema).is_valid(_nested(5, leaf_name=""))
    assert result.tools[0].args_schema.get("$defs") is None


def test_draft4_leftovers_are_translated_not_ignored() -> None:
    body = {
        "type": "object",
        "properties": {
            "card": {"type": "string"},
            "cvv": {"type": "string"},
            "pair": {
                "type": "array",
                "items": [{"type": "string"}, {"type": "integer"}],
                "additionalItems": False,
            },
        },
        "dependencies": {"card": ["cvv"], "cvv": {"properties": {"cvv": {"maxLength": 4}}}},
    }
    tool = one(openapi(post_body(body)))
    converted = tool.args_schema["properties"]["body"]
    assert converted["dependentRequired"] == {"card": ["cvv"]}
    assert converted["properties"]["pair"]["items"] is False
    assert accepts(tool, {"body": {"card": "4111", "cvv": "123", "pair": ["a", 1]}})
    assert not accepts(tool, {"body": {"card": "4111"}})
    assert not accepts(tool, {"body": {"cvv": "12345"}})
    assert not accepts(tool, {"body": {"pair": ["a", "b"]}})
    assert not accepts(tool, {"body": {"pair": ["a", 1, "extra"]}})


def test_keywords_of_the_wrong_type_are_dropped_with_a_warning() -> None:
    tool = one(
        openapi(
            post_body(
                {
                    "type": "string",
                    "format": 5,
                    "uniqueItems": "yes",
                    "examples": {"one": "x"},
                    "maxLength": "3",
                }
            )
        )
    )
    Draft202012Validator.check_schema(tool.args_schema)
    converted = tool.args_schema["properties"]["body"]
    assert converted == {"type": "string", "examples": [{"one": "x"}], "maxLength": 3}
    assert any("'format: 5'" in w for w in tool.warnings)
    assert any("uniqueItems" in w for w in tool.warnings)
