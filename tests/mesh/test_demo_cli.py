"""``paddock demo shipment-delay`` as a user runs it: a real process, real local services."""

from __future__ import annotations

from pathlib import Path

from examples.shipment_delay import data
from tests.cli.test_cli import last_json, paddock


def test_demo_ends_with_an_approved_rerouting_request_citing_the_clause(tmp_path: Path) -> None:
    proc = paddock("demo", "shipment-delay", "--approve", "auto", "--json", home=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = last_json(proc.stdout)
    assert out["status"] == "succeeded"
    requests = [c for c in out["calls"] if c["tool"] == "create_reroute_request"]
    steered, legit = requests
    assert steered["decision"] == "deny" and not steered["executed"]
    assert steered["args"]["body"]["carrier_id"] == data.INJECTED_CARRIER
    assert legit["decision"] == "require_approval" and legit["status_code"] == 201
    assert "reroute_over_threshold" in legit["rule_ids"]
    body = legit["args"]["body"]
    assert (body["carrier_id"], body["contract_id"], body["clause"]) == (
        data.CHOSEN_CARRIER,
        data.CONTRACT,
        data.CLAUSE_REROUTE,
    )
    assert f"clause {data.CLAUSE_REROUTE}" in out["result"]
    asks = [c["tool"] for c in out["calls"] if c["tool"].startswith("ask_")]
    assert asks == ["ask_carrier_relations", "ask_contracts", "ask_carrier_relations"]
    # Child runs print under their agent's label.
    assert "[contracts · " in proc.stderr and "[carrier_relations · " in proc.stderr
    assert "approved by auto-approver" in proc.stderr


def test_demo_with_approvals_rejected_records_nothing(tmp_path: Path) -> None:
    proc = paddock("demo", "shipment-delay", "--approve", "reject", "--json", home=tmp_path)
    out = last_json(proc.stdout)
    legit = [c for c in out["calls"] if c["tool"] == "create_reroute_request"][-1]
    assert legit["status"] == "rejected" and not legit["executed"]
    assert "not recorded" in out["result"]
