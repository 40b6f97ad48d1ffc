"""What the console costs the API: the first console request in a fresh process, next to the
first API request, and warm requests of each.

Each cold sample is a fresh interpreter (the project venv) that imports the Lambda HTTP handler
and serves one request: GET /healthz (the API's cheapest route) or GET /console/signin (loads
core.console, Jinja2 and compiles two templates). Warm figures are medians over repeated
requests in one process. Samples are interleaved so machine load hits both alike.

Usage: .venv/bin/python bench/console_cold.py [--runs 11] [--warm 200]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SAMPLE = textwrap.dedent("""
    import json, sys, time
    t0 = time.perf_counter()
    from functions.aws.http_handler import make_handler
    from core.entry import LazyApi
    from paddock.dev.events import LambdaContext, http_api_event
    handler = make_handler(LazyApi(env={}))
    t1 = time.perf_counter()
    result = handler(http_api_event("GET", sys.argv[1]), LambdaContext("bench"))
    t2 = time.perf_counter()
    assert result["statusCode"] == 200, result
    warm = []
    for _ in range(int(sys.argv[2])):
        s = time.perf_counter()
        handler(http_api_event("GET", sys.argv[1]), LambdaContext("bench"))
        warm.append(time.perf_counter() - s)
    warm.sort()
    print(json.dumps({"import": t1 - t0, "first": t2 - t1, "warm": warm[len(warm) // 2]}))
""")


def sample(path: str, warm: int) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", SAMPLE, path, str(warm)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={
            "PYTHONPATH": str(ROOT),
            "POWERTOOLS_METRICS_NAMESPACE": "b",
            "POWERTOOLS_LOG_LEVEL": "ERROR",
        },
    )
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--warm", type=int, default=200)
    args = parser.parse_args()
    paths = {"GET /healthz (API)": "/healthz", "GET /console/signin": "/console/signin"}
    got: dict[str, list[dict[str, float]]] = {name: [] for name in paths}
    for _ in range(args.runs):
        for name, path in paths.items():
            got[name].append(sample(path, args.warm))

    def med(name: str, key: str) -> float:
        return statistics.median(s[key] for s in got[name]) * 1000

    base = "GET /healthz (API)"
    print(f"fresh interpreter per sample, median of {args.runs}; warm: median of {args.warm}")
    print(
        f"{'request':<22} {'import':>8} {'first req':>10} {'import+first':>13} "
        f"{'vs API':>7} {'warm':>9} {'vs API':>7}"
    )
    for name in paths:
        cold = med(name, "import") + med(name, "first")
        print(
            f"{name:<22} {med(name, 'import'):>6.0f}ms {med(name, 'first'):>8.0f}ms "
            f"{cold:>11.0f}ms {cold / (med(base, 'import') + med(base, 'first')):>6.2f}x "
            f"{med(name, 'warm'):>7.2f}ms {med(name, 'warm') / med(base, 'warm'):>6.2f}x"
        )


if __name__ == "__main__":
    main()
