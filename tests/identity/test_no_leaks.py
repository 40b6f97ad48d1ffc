"""A secret planted in a credential reaches its service and nowhere else: not the store, not
the spans, not the logs."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from core.domain import RunStatus
from core.state.sqlite import SqliteStore
from core.telemetry.tracing import RunTracer
from examples.supply_chain import SupplyChainServices
from examples.supply_chain.identity import local_verifiers
from paddock.local.identity import local_identity_bundle
from tests.identity.scenario import run_scenario

PLANTED = "pdk_PLANTED_7f3a9c_do_not_leak"


def test_planted_secret_never_reaches_store_spans_or_logs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    identity, local = local_identity_bundle()
    verifiers = local_verifiers(local)
    local.secrets.put("paddock/supplier-risk-api/apikey", PLANTED)  # the risk API's key now
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    db = tmp_path / "state.db"
    with caplog.at_level(logging.DEBUG), SupplyChainServices(verify_auth=verifiers) as services:
        run = run_scenario(
            services,
            SqliteStore(db),
            identity=identity,
            tracing=RunTracer(tracer=provider.get_tracer("leak-test")),
        )
        risk_keys = {r.headers.get("x-api-key") for r in services.risk.requests}
        bearer = {r.authorization for r in services.erp.requests}
        signatures = {r.authorization for r in services.portal.requests}
    assert run.status is RunStatus.SUCCEEDED, run.reason
    assert risk_keys == {PLANTED}  # the planted secret was really in use
    aws_secret = local.aws.secret_for(local.aws.access_key_id)
    assert aws_secret is not None
    tokens = {str(b).removeprefix("Bearer ") for b in bearer}
    secrets = [PLANTED, aws_secret, *tokens, *(str(s).rsplit("=", 1)[1] for s in signatures)]

    stored = db.read_bytes().decode("utf-8", "replace")
    stored += "".join(
        db.parent.joinpath(n).read_text("utf-8", "replace")
        for n in ("state.db-wal",)
        if db.parent.joinpath(n).exists()
    )
    spans = json.dumps(
        [
            {
                "name": s.name,
                "attributes": dict(s.attributes or {}),
                "events": [dict(e.attributes or {}) for e in s.events],
                "status": s.status.description,
            }
            for s in exporter.get_finished_spans()
        ],
        default=str,
    )
    logs = caplog.text + "".join(str(r.args) for r in caplog.records)
    assert exporter.get_finished_spans() and caplog.records  # there was something to search
    for secret in secrets:
        assert secret not in stored
        assert secret not in spans
        assert secret not in logs
    assert "args_sha256" in stored  # capability claims were stored; their secrets were not
