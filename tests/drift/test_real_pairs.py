"""The spec diff on oasdiff's real version pairs (tests/data/drift, verdicts in EXPECTED.md)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from core.drift import Change, Level, diff_specs

DRIFT = Path(__file__).resolve().parents[1] / "data" / "drift"
TODAY = date(2026, 12, 3)


def diff(old: str, new: str) -> list[Change]:
    return diff_specs(str(DRIFT / old), str(DRIFT / new), today=TODAY)


def kinds(changes: list[Change]) -> set[tuple[str, str, Level]]:
    return {(c.kind, c.location, c.level) for c in changes}


def test_01_path_removed_without_deprecation_is_breaking() -> None:
    changes = diff(
        "01_endpoint_path_removed/openapi-test1.yaml",
        "01_endpoint_path_removed/openapi-test701.yaml",
    )
    removed = [c for c in changes if c.kind == "operation-removed"]
    assert [c.operation.split(" (")[0] for c in removed] == ["POST /subscribe"]
    assert removed[0].breaking and "without deprecation" in removed[0].message


def test_02a_removed_before_its_sunset_is_breaking() -> None:
    changes = diff(
        "02_endpoint_removed_deprecation/deprecated-future.yaml",
        "02_endpoint_removed_deprecation/sunset.yaml",
    )
    assert [(c.kind, c.operation.split(" (")[0], c.breaking) for c in changes] == [
        ("operation-removed-before-sunset", "GET /api/test", True)
    ]
    assert "9999-08-10" in changes[0].message


def test_02b_removed_after_its_sunset_is_not_breaking() -> None:
    changes = diff(
        "02_endpoint_removed_deprecation/deprecated-past.yaml",
        "02_endpoint_removed_deprecation/sunset.yaml",
    )
    # oasdiff reports nothing at all; Paddock keeps an informational record of the removal.
    assert [(c.kind, c.level) for c in changes] == [("operation-removed", Level.INFO)]
    assert "2022-08-10" in changes[0].message


def test_02_sunset_is_compared_with_the_given_day() -> None:
    changes = diff_specs(
        str(DRIFT / "02_endpoint_removed_deprecation/deprecated-past.yaml"),
        str(DRIFT / "02_endpoint_removed_deprecation/sunset.yaml"),
        today=date(2022, 8, 9),
    )
    assert [c.kind for c in changes] == ["operation-removed-before-sunset"]


def test_03_endpoints_added_are_not_breaking() -> None:
    changes = diff("03_endpoint_added/base.yaml", "03_endpoint_added/revision.yaml")
    assert sorted(c.operation.split(" (")[0] for c in changes) == [
        "GET /api/test3",
        "POST /api/test2",
    ]
    assert {c.kind for c in changes} == {"operation-added"}
    assert not any(c.breaking for c in changes)


def test_04a_new_required_request_property_is_breaking() -> None:
    changes = diff(
        "04_request_required_property_added/request_property_added_base.yaml",
        "04_request_required_property_added/request_property_added_revision.yaml",
    )
    assert kinds(changes) == {
        ("request-required-property-added", "request body $.description", Level.BREAKING)
    }
    assert changes[0].operation == "POST /products (addProduct)"


def test_04b_required_and_optional_request_properties() -> None:
    changes = diff(
        "04_request_required_property_added/request_property_added_base.yaml",
        "04_request_required_property_added/request_property_added_revision2.yaml",
    )
    assert kinds(changes) == {
        ("request-required-property-added", "request body $.description", Level.BREAKING),
        ("request-property-added", "request body $.info", Level.INFO),
    }


def test_05_request_property_type_changed_is_breaking() -> None:
    changes = diff(
        "05_request_property_type_changed/request_property_type_changed_base.yaml",
        "05_request_property_type_changed/request_property_type_changed_revision.yaml",
    )
    assert kinds(changes) == {("request-type-changed", "request body $.age", Level.BREAKING)}
    assert "integer to string" in changes[0].message
    assert changes[0].operation == "POST /pets (addPet)"


def test_06_response_body_type_changed_is_breaking() -> None:
    changes = diff(
        "06_response_body_type_changed/response_schema_type_changed_base.yaml",
        "06_response_body_type_changed/response_schema_type_changed_revision.yaml",
    )
    assert ("response-type-changed", "response 200 $", Level.BREAKING) in kinds(changes)
    # oasdiff's single check reports only the type change; the new object's property is a
    # second, non-breaking fact Paddock lists too.
    assert {c.kind for c in changes if not c.breaking} == {"response-property-added"}


def test_07a_request_enum_value_removed_is_breaking() -> None:
    changes = diff(
        "07_request_param_enum_value_removed/request_parameter_enum_value_updated_base.yaml",
        "07_request_param_enum_value_removed/request_parameter_enum_value_updated_revision.yaml",
    )
    assert kinds(changes) == {
        ("request-parameter-enum-value-removed", "parameter query:status", Level.BREAKING)
    }
    assert "'available'" in changes[0].message
    assert changes[0].operation == "GET /test (getTest)"


def test_07b_request_enum_value_added_is_not_breaking() -> None:
    changes = diff(
        "07_request_param_enum_value_removed/request_parameter_enum_value_updated_revision.yaml",
        "07_request_param_enum_value_removed/request_parameter_enum_value_updated_base.yaml",
    )
    assert kinds(changes) == {
        ("request-parameter-enum-value-added", "parameter query:status", Level.INFO)
    }


def test_08a_optional_response_property_removed_is_a_warning() -> None:
    changes = diff(
        "08_response_optional_property_removed/response_optional_property_removed_base.yaml",
        "08_response_optional_property_removed/response_optional_property_removed_revision.yaml",
    )
    assert kinds(changes) == {
        ("response-property-removed", "response 200 $.data.id", Level.WARNING)
    }
    assert not changes[0].breaking


def test_08b_optional_response_property_added_is_not_breaking() -> None:
    changes = diff(
        "08_response_optional_property_removed/response_optional_property_removed_revision.yaml",
        "08_response_optional_property_removed/response_optional_property_removed_base.yaml",
    )
    assert kinds(changes) == {("response-property-added", "response 200 $.data.id", Level.INFO)}


def test_09_response_property_became_optional_is_breaking() -> None:
    changes = diff(
        "09_response_property_became_optional/response_property_became_optional_base.yaml",
        "09_response_property_became_optional/response_property_became_optional_revision.yaml",
    )
    # oasdiff's test runs only its became-optional check. The revision file also deletes the
    # required top-level property `location` (compare the parsed files), which Paddock reports
    # as a second breaking change.
    assert kinds(changes) == {
        ("response-property-became-optional", "response 200 $.data.name", Level.BREAKING),
        ("response-property-removed", "response 200 $.location", Level.BREAKING),
    }


def test_10_required_response_property_added_is_not_breaking() -> None:
    changes = diff(
        "10_response_required_property_added/response_required_property_added_base.yaml",
        "10_response_required_property_added/response_required_property_added_revision.yaml",
    )
    assert kinds(changes) == {("response-property-added", "response 200 $.data.new", Level.INFO)}


@pytest.mark.parametrize("name", sorted(p.name for p in DRIFT.iterdir() if p.is_dir()))
def test_a_spec_diffed_with_itself_has_no_changes(name: str) -> None:
    for spec in sorted((DRIFT / name).glob("*.yaml")):
        assert diff_specs(str(spec), str(spec), today=TODAY) == []
