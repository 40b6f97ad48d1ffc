"""A parent planned by a real model client (the openai SDK against ScriptedOpenAI) sees the
delegation tools as functions and delegates; the child answers with the offline rules."""

from __future__ import annotations

import json
from typing import Any

from openai import OpenAI

from core.domain import RunStatus
from core.planner.openai_planner import OpenAIPlanner
from paddock.testing.fake_openai import ScriptedOpenAI, TextReply, ToolCall, ToolCallsReply
from tests.mesh.world import MeshWorld


def test_a_model_delegates_through_ask_tools_and_reads_the_childs_answer(world: MeshWorld) -> None:
    ask = ToolCall(
        "ask_carrier_relations",
        {"goal": "How late is SH-4471?", "context": {"shipment_id": "SH-4471"}},
    )

    def answer(body: dict[str, Any]) -> TextReply:
        last = json.dumps(body["messages"][-1])
        assert "3 days late" in last  # the child's answer is the observation
        return TextReply("SH-4471 is 3 days late.")

    with ScriptedOpenAI([ToolCallsReply([ask]), answer]) as server:
        world.scripted["logistics_planning"] = OpenAIPlanner(
            OpenAI(base_url=server.base_url, api_key="k", max_retries=0), "gpt-test"
        )
        local = world.local()
        root = local.start(world.root())
        final = local.run_until_settled(root.id)
        first = server.bodies[0]

    names = {t["function"]["name"] for t in first["tools"]}
    assert {"ask_carrier_relations", "ask_contracts", "create_reroute_request"} <= names
    assert "get_shipment_status" not in names  # owned by Carrier Relations, not by the parent
    assert final.status is RunStatus.SUCCEEDED, final.reason
    assert final.result == "SH-4471 is 3 days late."
    child = world.store.get_run(final.children[0].id)
    assert child.agent == "carrier_relations" and child.status is RunStatus.SUCCEEDED
