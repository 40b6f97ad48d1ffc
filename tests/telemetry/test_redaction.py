"""Secrets planted in a request header, a tool argument, the reasoning, the goal and an error
never reach an exported span (in memory or in the JSON-lines file) or a log line."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from core.domain import Plan, Run, RunStatus, Tool
from core.errors import PlannerError
from core.execution.base import CallContext
from core.execution.http import HttpExecutor
from core.guardrails.base import PassThroughGuard
from core.orchestrator.engine import Orchestrator
from core.state.memory import MemoryStore
from core.telemetry.exporters import read_spans
from core.telemetry.redact import (
    MASK,
    Redactor,
    install_log_redaction,
    uninstall_log_redaction,
)
from core.telemetry.setup import TelemetryConfig, build_telemetry
from paddock.local.servers import LocalServer
from paddock.testing.planner import ScriptedPlanner
from tests.orchestrator.service import ToolList
from tests.telemetry.support import EchoService, Recorder, call, echo_tools, everything, named

BEARER = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXNlY3JldC0x"
API_KEY = "pk_live_f00dfacecafebeef1234"
ARG_SECRET = "hunter2-correct-horse"
OPENAI_KEY = "sk-proj-Zx81mQ0aB7cD9eF2gH4iJ6kL"
AWS_KEY = "AKIAIOSFODNN7EXAMPLE"
EMAIL = "jane.doe@supplier.example"
IBAN = "DE89 3704 0044 0532 0130 00"
SECRETS = [BEARER, API_KEY, ARG_SECRET, OPENAI_KEY, AWS_KEY, EMAIL, IBAN, "DE89370400440532013000"]


class PlantedCredentials:
    """Adds a bearer token and an API key to every request, as an identity provider would."""

    def authorize(self, tool: Tool, request: httpx.Request, ctx: CallContext) -> None:
        request.headers["Authorization"] = f"Bearer {BEARER}"
        request.headers["X-Api-Key"] = API_KEY


SCRIPT = [
    Plan(
        reasoning=f"The inbox says to use key {OPENAI_KEY} and {AWS_KEY}; contact {EMAIL}.",
        calls=[call("get_stock", item="A-1")],
    ),
    Plan(
        reasoning=f"Pay {IBAN} after writing the note.",
        calls=[
            call(
                "save_note",
                body={
                    "text": f"mail {EMAIL} about {IBAN}",
                    "api_key": ARG_SECRET,
                    "note": f"password={ARG_SECRET}",
                },
            )
        ],
    ),
    Plan(reasoning="done", final_answer=f"noted; contact {EMAIL}"),
]


@pytest.fixture()
def echo() -> Iterator[tuple[EchoService, str]]:
    service = EchoService()
    with LocalServer(service.app, name="echo") as server:
        yield service, server.url


@pytest.fixture()
def logs() -> Iterator[io.StringIO]:
    """Every log record of the process, formatted, while log redaction is installed."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield out
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        uninstall_log_redaction()


def test_planted_secrets_never_reach_spans_the_trace_file_or_logs(
    echo: tuple[EchoService, str], tmp_path: Path, logs: io.StringIO
) -> None:
    service, url = echo
    recorder = Recorder()
    trace_file = tmp_path / "traces.jsonl"
    telemetry = build_telemetry(
        TelemetryConfig(trace_file=str(trace_file)), extra=[recorder.exporter]
    )
    catalog = ToolList(echo_tools(url))
    planner = ScriptedPlanner(list(SCRIPT))
    orch = Orchestrator(
        store=MemoryStore(),
        catalogs=lambda run: catalog,
        planners=lambda run: planner,
        guard=PassThroughGuard(),
        executor=HttpExecutor(authorizer=PlantedCredentials()),
        tracing=telemetry.tracing,
    )
    orch.create(Run(id="run_secret", goal=f"restock A-1 and tell {EMAIL}"))
    run = orch.advance("run_secret").run
    assert run.status is RunStatus.SUCCEEDED
    log = logging.getLogger("paddock.test.vendor")
    log.warning("vendor call failed: headers=%s", {"Authorization": f"Bearer {BEARER}"})
    try:
        raise PlannerError(f"401 from the model: Incorrect API key {OPENAI_KEY}")
    except PlannerError:
        log.exception("planner failed for %s", EMAIL)

    # The secrets really were there: on the wire and in the call record.
    [read, write] = service.requests
    assert read["headers"]["authorization"] == f"Bearer {BEARER}"
    assert read["headers"]["x-api-key"] == API_KEY
    assert write["body"]["api_key"] == ARG_SECRET
    assert run.steps[1].calls[0].args["body"]["api_key"] == ARG_SECRET

    spans = recorder.spans()
    exported = everything(spans) + trace_file.read_text(encoding="utf-8")
    printed = logs.getvalue()
    assert "vendor call failed" in printed and "planner failed for [EMAIL]" in printed
    assert "PlannerError" in printed  # the traceback is kept, redacted
    for secret in SECRETS:
        assert secret not in exported, secret
        assert secret not in printed, secret
    [tool] = named(spans, "POST save_note")
    assert MASK in tool["attributes"]["paddock.call.args"]
    assert "[EMAIL]" in tool["attributes"]["paddock.call.args"]
    assert "[IBAN]" in tool["attributes"]["paddock.call.args"]
    assert len(read_spans(trace_file)) == len(spans)


def test_personal_data_masking_and_reasoning_are_configurable() -> None:
    config = TelemetryConfig.from_env(
        {
            "PADDOCK_REDACT_PERSONAL": "off",
            "PADDOCK_TRACE_REASONING": "off",
            "PADDOCK_TRACE_MAX_TEXT": "40",
            "PADDOCK_REDACT_PATTERNS": '["CUST-\\\\d{6}"]',
        }
    )
    redactor = config.redactor()
    assert not config.reasoning
    assert redactor.text(f"mail {EMAIL}") == f"mail {EMAIL}"
    assert redactor.text("customer CUST-123456 called") == f"customer {MASK} called"
    assert redactor.text("x" * 100) == "x" * 40 + "…[truncated]"
    assert redactor.text(f"key {OPENAI_KEY}") == f"key {MASK}"  # secrets: always
    telemetry = build_telemetry(config)
    assert telemetry.tracing.record_reasoning is False
    uninstall_log_redaction()


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        (f"Authorization: Bearer {BEARER}", "Authorization:"),
        (
            "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
            "",
        ),
        (f"token={ARG_SECRET}", ""),
        ("https://x.example/?X-Amz-Signature=" + "ab" * 32, "https://x.example/"),
    ],
)
def test_secret_shapes_are_masked(text: str, kept: str) -> None:
    masked = Redactor().text(text)
    assert MASK in masked and masked.startswith(kept)
    assert masked != text


def test_keys_that_name_secrets_hide_their_values_at_any_depth() -> None:
    value = {"query": {"api_key": "abc", "nested": [{"client_secret": "def"}]}, "item": "A-1"}
    assert Redactor().value(value) == {
        "query": {"api_key": MASK, "nested": [{"client_secret": MASK}]},
        "item": "A-1",
    }
    assert Redactor().headers({"X-Api-Key": "abc", "Accept": "application/json"}) == {
        "X-Api-Key": MASK,
        "Accept": "application/json",
    }


def test_log_redaction_covers_records_created_after_install(logs: io.StringIO) -> None:
    install_log_redaction(Redactor())
    logging.getLogger("paddock.x").info("sending %s", f"Bearer {BEARER}")
    assert BEARER not in logs.getvalue()
    assert f"sending {MASK}" in logs.getvalue()


def test_a_json_formatter_that_prints_exc_info_itself_prints_it_redacted() -> None:
    """Powertools' Lambda formatter formats the exception from ``exc_info``, not ``exc_text``."""
    from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(LambdaPowertoolsFormatter())
    log = logging.getLogger("paddock.test.powertools")
    log.addHandler(handler)
    log.propagate = False
    install_log_redaction(Redactor())
    try:
        try:
            try:
                raise ValueError(f"inner {OPENAI_KEY}")
            except ValueError as inner:
                raise RuntimeError(f"outer: Bearer {BEARER}") from inner
        except RuntimeError:
            log.exception("call failed for %s", EMAIL)
    finally:
        uninstall_log_redaction()
        log.removeHandler(handler)
    line = json.loads(out.getvalue().strip().splitlines()[-1])
    assert line["message"] == "call failed for [EMAIL]"
    assert "RuntimeError" in line["exception"] and MASK in line["exception"]
    assert line["exception_name"] == "RedactedError"
    for secret in (OPENAI_KEY, BEARER, EMAIL):
        assert secret not in out.getvalue()
