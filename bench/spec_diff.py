"""Spec diff cost on the largest real spec (issue 9): diffing Stripe (417 operations) against a
revision with a few changes, next to importing the two versions (the baseline every diff pays,
measured in the same run).

Usage: .venv/bin/python bench/spec_diff.py [--repeat 5] [--json]
"""

from __future__ import annotations

import argparse
import copy
import gzip
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.catalog import tools_from_document
from core.drift.spec_diff import diff_tools
from core.drift.specs import sunsets

SPEC = ROOT / "tests/data/specs/stripe_spec3.json.gz"


def revision(doc: dict[str, Any]) -> dict[str, Any]:
    """Three changes a backend team might make: a removed operation, a renamed response
    field, a new required parameter."""
    new = copy.deepcopy(doc)
    del new["paths"]["/v1/coupons/{coupon}"]["delete"]
    charge = new["components"]["schemas"]["charge"]
    charge["properties"]["uuid"] = charge["properties"].pop("id")
    charge["required"] = ["uuid" if r == "id" else r for r in charge.get("required", [])]
    new["paths"]["/v1/customers"]["get"].setdefault("parameters", []).append(
        {"name": "region", "in": "query", "required": True, "schema": {"type": "string"}}
    )
    return new


def measure(repeat: int) -> dict[str, Any]:
    old = json.loads(gzip.decompress(SPEC.read_bytes()))
    new = revision(old)
    imports, diffs = [], []
    changes: list[Any] = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        before = tools_from_document(old, source="old")
        after = tools_from_document(new, source="new")
        t1 = time.perf_counter()
        changes = diff_tools(before, after, sunsets=sunsets(old))
        t2 = time.perf_counter()
        imports.append(t1 - t0)
        diffs.append(t2 - t1)
    breaking = [c for c in changes if c.breaking]
    return {
        "operations": len(before),
        "changes": len(changes),
        "breaking": len(breaking),
        "import_both_ms": round(statistics.median(imports) * 1000, 1),
        "diff_ms": round(statistics.median(diffs) * 1000, 1),
        "diff_vs_import": round(statistics.median(diffs) / statistics.median(imports), 3),
        "kinds": sorted({c.kind for c in breaking}),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    m = measure(args.repeat)
    if args.json:
        print(json.dumps(m))
        return 0
    print(
        f"Stripe, {m['operations']} operations: {m['changes']} changes found, "
        f"{m['breaking']} breaking ({', '.join(m['kinds'])})"
    )
    print(
        f"import both versions {m['import_both_ms']} ms (baseline) | diff {m['diff_ms']} ms "
        f"= {m['diff_vs_import']}x the import"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
