"""The diff on the largest real spec (Stripe, 417 operations, recursive schemas kept in $defs)
against a revision with a backend team's typical changes (bench/spec_diff.py times the same)."""

from __future__ import annotations

import copy
import gzip
import json
from pathlib import Path
from typing import Any

from core.drift import Level
from core.drift.specs import diff_documents

SPEC = Path(__file__).resolve().parents[1] / "data/specs/stripe_spec3.json.gz"


def test_stripe_rename_removal_and_new_required_parameter() -> None:
    old: dict[str, Any] = json.loads(gzip.decompress(SPEC.read_bytes()))
    new = copy.deepcopy(old)
    del new["paths"]["/v1/coupons/{coupon}"]["delete"]
    charge = new["components"]["schemas"]["charge"]
    charge["properties"]["uuid"] = charge["properties"].pop("id")
    charge["required"] = ["uuid" if r == "id" else r for r in charge["required"]]
    new["paths"]["/v1/customers"]["get"]["parameters"].append(
        {"name": "region", "in": "query", "required": True, "schema": {"type": "string"}}
    )
    changes = diff_documents(old, new)
    assert diff_documents(old, old) == []
    breaking = {
        (c.kind, c.operation.split(" (")[0], c.location)
        for c in changes
        if c.level is Level.BREAKING
    }
    assert ("operation-removed", "DELETE /v1/coupons/{coupon}", "operation") in breaking
    assert ("parameter-added-required", "GET /v1/customers", "parameter query:region") in breaking
    charge_get = next(
        c
        for c in changes
        if c.operation.startswith("GET /v1/charges/{charge} ")
        and c.kind == "response-property-removed"
    )
    assert charge_get.location == "response 200 $.id" and charge_get.breaking
    assert charge_get.hint == "may be a rename: 'id' -> 'uuid'"
