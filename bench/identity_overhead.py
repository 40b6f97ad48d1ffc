"""What identity adds to one tool call, measured against a plain call in the same run.

A real local HTTP service (127.0.0.1) answers each GET. Columns, per call (median and p99 of
N calls, milliseconds): the plain executor; the executor with capability tokens (mint in the
"orchestrator", verify in the executor); and with tokens plus SigV4 signing (local static
credentials, cached) and a service that verifies the signature with botocore. The mint+verify
and sign steps are also timed alone, without HTTP.

    .venv/bin/python bench/identity_overhead.py [N]
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from core.domain import (
    AuthRequirement,
    CallRecord,
    CallStatus,
    Decision,
    HttpBinding,
    Param,
    ParamLocation,
    Run,
    Tool,
    Verdict,
)
from core.execution.base import CallContext
from core.execution.http import HttpExecutor
from core.identity import (
    CapabilityMinter,
    CapabilityVerifier,
    IdentityAuthorizer,
    KeyRing,
    StaticAwsCredentials,
    sign_sigv4,
)
from paddock.local.servers import LocalServer
from paddock.local.verify import verify_sigv4

ARGS = {"item_id": "A-1"}


def _tool(base: str, scheme: str) -> Tool:
    auth = (
        AuthRequirement(scheme="aws_sigv4", service="execute-api", region="eu-central-1")
        if scheme == "aws_sigv4"
        else AuthRequirement()
    )
    return Tool(
        name="get_item",
        description="bench",
        args_schema={"type": "object"},
        binding=HttpBinding(
            method="GET",
            path="/items/{item_id}",
            base_url=base,
            operation_id="get_item",
            params=(
                Param(arg="item_id", name="item_id", location=ParamLocation.PATH, required=True),
            ),
        ),
        auth=auth,
    )


def _stats(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"{statistics.median(ordered) * 1000:7.3f} {p99 * 1000:7.3f}"


def _time(n: int, fn: Callable[[], object]) -> list[float]:
    for _ in range(min(50, n)):
        fn()  # warm up
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def main(n: int) -> None:
    keys = KeyRing.generate()
    aws = StaticAwsCredentials()
    minter = CapabilityMinter(keys)
    verifier = CapabilityVerifier(keys.verifying())
    run = Run(id="run_bench", goal="bench")
    call = CallRecord(
        call_id="c",
        tool="get_item",
        args=ARGS,
        status=CallStatus.APPROVED,
        decision=Decision(id="d", verdict=Verdict.ALLOW),
    )
    signed = {"on": False}

    async def item(request: Request) -> JSONResponse:
        if signed["on"]:
            url = str(request.url)
            reason = verify_sigv4(
                "GET",
                url,
                dict(request.headers),
                b"",
                lookup=aws.secret_for,
                service="execute-api",
                region="eu-central-1",
            )
            if reason is not None:
                return JSONResponse({"error": reason}, status_code=401)
        return JSONResponse({"ok": True})

    app = Starlette(routes=[Route("/items/{item_id}", item)])
    with LocalServer(app) as server:
        plain_tool, sig_tool = _tool(server.url, "none"), _tool(server.url, "aws_sigv4")
        plain = HttpExecutor()
        capped = HttpExecutor(verifier=verifier)
        full = HttpExecutor(verifier=verifier, authorizer=IdentityAuthorizer(aws=aws))

        def ctx(token: str | None) -> CallContext:
            return CallContext(
                run_id="run_bench", step_index=0, call_index=0, capability_token=token
            )

        def with_token(executor: HttpExecutor, tool: Tool) -> Callable[[], object]:
            def go() -> object:
                token = minter.issue(run, 0, 0, call, tool).token
                result = executor.execute(tool, ARGS, ctx(token))
                assert result.status_code == 200, result.error or result.body
                return result

            return go

        rows = [
            ("plain call", _time(n, lambda: plain.execute(plain_tool, ARGS, ctx(None)))),
            ("+ capability token", _time(n, with_token(capped, plain_tool))),
        ]
        signed["on"] = True
        rows.append(("+ token + SigV4 (service verifies)", _time(n, with_token(full, sig_tool))))
        signed["on"] = False

        def mint_verify() -> object:
            token = minter.issue(run, 0, 0, call, plain_tool).token
            return verifier.verify(plain_tool, ARGS, ctx(token))

        request = httpx.Request("GET", server.url + "/items/A-1")
        credential = aws.credentials(None, "bench")
        rows.append(("mint + verify alone", _time(n, mint_verify)))
        rows.append(
            (
                "SigV4 sign alone",
                _time(
                    n,
                    lambda: sign_sigv4(
                        request, credential, service="execute-api", region="eu-central-1"
                    ),
                ),
            )
        )
        for executor in (plain, capped, full):
            executor.close()
    base = statistics.median(rows[0][1])
    print(f"identity overhead per call, N={n} (ms; ratio = median / plain call median)")
    print(f"{'':36} {'median':>7} {'p99':>7}  ratio")
    for label, samples in rows:
        print(f"{label:36} {_stats(samples)}  {statistics.median(samples) / base:5.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
