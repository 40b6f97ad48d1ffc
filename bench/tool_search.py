"""Tool search on a large real catalog: top-k recall and prompt tokens saved (issue 9).

Catalog: Stripe's OpenAPI spec (tests/data/specs/stripe_spec3.json.gz, 417 operations).
Labelled set: tests/data/tool_search/stripe_goals.yaml (hand-written goals -> operationIds;
a goal is found when any expected operation is ranked within k). Ranker: BM25 from the bm25s
package over tool names, paths, parameters and summaries (core/catalog/search.py).
Baseline, measured in the same run: sending every tool in every prompt.

Usage: .venv/bin/python bench/tool_search.py [--json] [--misses]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.catalog import Catalog
from core.catalog.search import ToolIndex
from core.orchestrator.tool_search import DEFAULT_TOP_K, SEARCH_TOOL_DEF
from paddock.testing.search_eval import (
    load_goals,
    mean_view_tokens,
    prompt_tokens,
    recall_at,
)

SPEC = ROOT / "tests/data/specs/stripe_spec3.json.gz"
GOALS = ROOT / "tests/data/tool_search/stripe_goals.yaml"


def measure() -> dict[str, object]:
    catalog = Catalog.from_sources([str(SPEC)])
    goals = load_goals(GOALS)
    started = time.perf_counter()
    index = ToolIndex(catalog.tools)
    build_ms = (time.perf_counter() - started) * 1000
    latencies = []
    for goal in goals:
        t0 = time.perf_counter()
        index.search(goal.goal, DEFAULT_TOP_K)
        latencies.append((time.perf_counter() - t0) * 1000)
    every = prompt_tokens(catalog.tools)
    top5 = mean_view_tokens(index, goals, 5)
    view = mean_view_tokens(index, goals, DEFAULT_TOP_K, extra=[SEARCH_TOOL_DEF])
    reports = {k: recall_at(index, goals, k) for k in (1, 5, 10, DEFAULT_TOP_K, 20)}
    return {
        "tools": len(catalog.tools),
        "goals": len(goals),
        "recall": {k: round(r.recall, 3) for k, r in reports.items()},
        "hits": {k: r.hits for k, r in reports.items()},
        "misses_at_5": [list(m[:2]) for m in reports[5].misses],
        "tokens_every_tool": every,
        "tokens_top5_mean": round(top5),
        "tokens_runtime_view_mean": round(view),
        "reduction_top5": round(every / top5, 1),
        "reduction_runtime_view": round(every / view, 1),
        "index_build_ms": round(build_ms, 1),
        "query_ms_median": round(statistics.median(latencies), 2),
        "runtime_top_k": DEFAULT_TOP_K,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--misses", action="store_true", help="list the goals missed at k=5")
    args = parser.parse_args()
    m = measure()
    if args.json:
        print(json.dumps(m))
        return 0
    print(f"catalog: Stripe, {m['tools']} tools; labelled goals: {m['goals']}")
    for k, recall in m["recall"].items():  # type: ignore[attr-defined]
        print(f"  recall@{k:<3} {recall:6.1%}  ({m['hits'][k]}/{m['goals']})")  # type: ignore[index]
    print(
        f"prompt tokens for tools (~4 chars/token): every tool {m['tokens_every_tool']:,}"
        f" | top-5 {m['tokens_top5_mean']:,} ({m['reduction_top5']}x fewer)"
        f" | runtime view top-{m['runtime_top_k']} + search_tools "
        f"{m['tokens_runtime_view_mean']:,} ({m['reduction_runtime_view']}x fewer)"
    )
    print(f"index build {m['index_build_ms']} ms; query median {m['query_ms_median']} ms")
    if args.misses:
        for goal, expected in m["misses_at_5"]:  # type: ignore[attr-defined]
            print(f"  miss: {goal!r} expected one of {expected}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
