"""``scripts/smoke``: prove a deployment works, from its stack outputs alone.

For each cloud whose API URL the outputs name (``awsApiUrl``, ``azureApiUrl``): check
``/healthz``, start a run, approve every approval it asks for (as the approver), and wait until
it finishes. Exit 0 when every run succeeded, 1 when one did not, 2 for bad input.

The outputs come from ``pulumi stack output --json --stack STACK`` (run in infra/), or from a
JSON file or URL given with ``--outputs``. Tokens come from ``--token``/``PADDOCK_SMOKE_TOKEN``
(the requester) and ``--approver-token``/``PADDOCK_SMOKE_APPROVER_TOKEN`` (someone else with the
approver role: Paddock refuses self-approval).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

CLOUDS = {"aws": "awsApiUrl", "azure": "azureApiUrl"}
"""The stack output holding each cloud's API URL."""
FINISHED = ("succeeded", "failed", "killed")
DEFAULT_REQUEST: dict[str, Any] = {"workflow": "supply-chain"}
INFRA = Path(__file__).resolve().parents[1] / "infra"


class SmokeError(Exception):
    """Bad input (exit 2): the message says what to fix."""


@dataclass(frozen=True)
class Result:
    cloud: str
    run_id: str
    status: str
    approvals: int
    seconds: float

    @property
    def ok(self) -> bool:
        return self.status == "succeeded"


def load_outputs(stack: str | None, source: str | None) -> dict[str, Any]:
    """The stack outputs: from ``source`` (a file or an http(s) URL) or from the Pulumi CLI."""
    if source is not None:
        if source.startswith(("http://", "https://")):
            try:
                response = httpx.get(source, timeout=30)
                response.raise_for_status()
                data: Any = response.json()
            except (httpx.HTTPError, ValueError) as exc:
                raise SmokeError(f"cannot read outputs from {source}: {exc}") from None
        else:
            try:
                data = json.loads(Path(source).read_text())
            except (OSError, ValueError) as exc:
                raise SmokeError(f"cannot read outputs from {source}: {exc}") from None
    elif stack is not None:
        data = _pulumi_outputs(stack)
    else:
        raise SmokeError("give a STACK name or --outputs FILE|URL")
    if not isinstance(data, dict):
        raise SmokeError("the outputs must be a JSON object")
    return data


def _pulumi_outputs(stack: str) -> Any:
    cmd = ["pulumi", "stack", "output", "--json", "--stack", stack]
    try:
        done = subprocess.run(cmd, cwd=INFRA, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise SmokeError("the pulumi CLI is not installed; pass --outputs FILE|URL") from None
    if done.returncode != 0:
        raise SmokeError(f"pulumi stack output failed: {done.stderr.strip()}")
    return json.loads(done.stdout)


def api_urls(outputs: dict[str, Any], only: Sequence[str] = ()) -> dict[str, str]:
    """Each cloud's API URL from the outputs (``only`` narrows the clouds)."""
    urls = {c: str(outputs[k]).rstrip("/") for c, k in CLOUDS.items() if outputs.get(k)}
    if only:
        missing = [c for c in only if c not in urls]
        if missing:
            raise SmokeError(f"the outputs have no API URL for {', '.join(missing)}")
        urls = {c: u for c, u in urls.items() if c in only}
    if not urls:
        raise SmokeError("the outputs name no API (awsApiUrl / azureApiUrl)")
    return urls


class Smoke:
    """One run per API: start, approve, wait."""

    def __init__(
        self,
        *,
        token: str,
        approver_token: str,
        request: dict[str, Any],
        timeout: float = 600.0,
        poll: float = 1.0,
        client: httpx.Client | None = None,
    ) -> None:
        self.requester = {"Authorization": f"Bearer {token}"}
        self.approver = {"Authorization": f"Bearer {approver_token}"}
        self.request = request
        self.timeout = timeout
        self.poll = poll
        self.client = client or httpx.Client(timeout=30)

    def run(self, cloud: str, api: str) -> Result:
        started_at = time.monotonic()
        health = self.client.get(f"{api}/healthz")
        _expect(health, 200, f"{cloud} /healthz")
        started = self.client.post(
            f"{api}/runs",
            json=self.request,
            headers={**self.requester, "Idempotency-Key": f"smoke-{cloud}-{uuid.uuid4().hex}"},
        )
        _expect(started, 202, f"{cloud} POST /runs")
        run_id = str(started.json()["run_id"])
        approvals = 0
        deadline = started_at + self.timeout
        while True:
            view = self.client.get(f"{api}/runs/{run_id}", headers=self.requester)
            _expect(view, 200, f"{cloud} GET /runs/{run_id}")
            status = str(view.json()["status"])
            if status in FINISHED:
                break
            if status == "awaiting_approval":
                approvals += self._approve(api, run_id)
            if time.monotonic() > deadline:
                break
            time.sleep(self.poll)
        return Result(cloud, run_id, status, approvals, time.monotonic() - started_at)

    def _approve(self, api: str, run_id: str) -> int:
        inbox = self.client.get(f"{api}/approvals", headers=self.approver)
        _expect(inbox, 200, "GET /approvals")
        decided = 0
        for item in inbox.json().get("approvals", []):
            if item.get("run_id") != run_id:
                continue
            response = self.client.post(
                f"{api}/runs/{run_id}/approvals/{item['id']}",
                headers=self.approver,
                json={
                    "decision": "approve",
                    "comment": "scripts/smoke",
                    "args_hash": item["args_hash"],
                },
            )
            _expect(response, 200, "approve")
            decided += 1
        return decided


def _expect(response: httpx.Response, status: int, what: str) -> None:
    if response.status_code != status:
        raise SmokeError(f"{what}: HTTP {response.status_code} {response.text[:200]}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scripts/smoke",
        description="Start a run on each deployed API, approve it, and see it finish.",
    )
    parser.add_argument("stack", nargs="?", help="Pulumi stack (reads its outputs)")
    parser.add_argument("--outputs", help="stack outputs as a JSON file or http(s) URL")
    parser.add_argument("--cloud", action="append", choices=sorted(CLOUDS), default=[])
    parser.add_argument("--token", default=os.environ.get("PADDOCK_SMOKE_TOKEN"))
    parser.add_argument("--approver-token", default=os.environ.get("PADDOCK_SMOKE_APPROVER_TOKEN"))
    parser.add_argument("--request", help="JSON file with the POST /runs body")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per run")
    parser.add_argument("--poll", type=float, default=1.0, help="seconds between polls")
    return parser


def _request_body(path: str | None) -> dict[str, Any]:
    if path is None:
        return dict(DEFAULT_REQUEST)
    try:
        body = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise SmokeError(f"--request {path}: {exc}") from None
    if not isinstance(body, dict):
        raise SmokeError(f"--request {path}: must be a JSON object")
    return body


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; returns the exit code."""
    args = _parser().parse_args(argv)
    try:
        if not args.token or not args.approver_token:
            raise SmokeError(
                "tokens missing: --token/PADDOCK_SMOKE_TOKEN and "
                "--approver-token/PADDOCK_SMOKE_APPROVER_TOKEN"
            )
        urls = api_urls(load_outputs(args.stack, args.outputs), args.cloud)
        smoke = Smoke(
            token=args.token,
            approver_token=args.approver_token,
            request=_request_body(args.request),
            timeout=args.timeout,
            poll=args.poll,
        )
        results = [smoke.run(cloud, url) for cloud, url in urls.items()]
    except SmokeError as exc:
        print(f"scripts/smoke: {exc}", file=sys.stderr)
        return 2
    except httpx.HTTPError as exc:
        print(f"scripts/smoke: {exc.__class__.__name__}: {exc}", file=sys.stderr)
        return 1
    for r in results:
        print(f"{r.cloud:5} {r.run_id} {r.status} ({r.approvals} approval(s), {r.seconds:.1f} s)")
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
