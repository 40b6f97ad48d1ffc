"""What a bundle amounts to once loaded: each tool as the run will see it, the rules, the
agents, and what the operator should look at (``paddock bundle show``)."""

from __future__ import annotations

from typing import Any

from core.bundles.catalog import ask_tools, workflow_catalog
from core.catalog.vendor import effective_labels, operation_key
from core.domain import Location, Tool
from core.workflows import SpecDocument, Workflow


def describe(workflow: Workflow) -> dict[str, Any]:
    """A JSON-ready description of a loaded workflow."""
    tools = workflow_catalog(workflow).tools
    by_source = {d.source: d for d in workflow.documents}
    return {
        "name": workflow.name,
        "title": workflow.title,
        "version": workflow.version,
        "goal": workflow.goal,
        "inputs": dict(workflow.inputs_schema) if workflow.inputs_schema else None,
        "grant": workflow.grant.model_dump(mode="json"),
        "budget": workflow.budget.model_dump(mode="json") if workflow.budget else None,
        "agent": workflow.agent,
        "tools": [_tool(t) for t in tools],
        "rules": _rules(workflow, tools),
        "agents": _agents(workflow),
        "warnings": _warnings(tools, by_source),
        "unconfirmed_vendor_labels": _unconfirmed(workflow.documents),
    }


def _tool(tool: Tool) -> dict[str, Any]:
    return {
        "name": tool.name,
        "operation": operation_key(tool),
        "cloud": tool.location.value,
        "side_effect": tool.side_effect.value,
        "trust": tool.trust.value,
        "auth": tool.auth.scheme,
        "vendor_text": tool.third_party_text,
    }


def _rules(workflow: Workflow, tools: list[Tool]) -> list[dict[str, str]]:
    if workflow.policy_dir is None:
        return []
    from core.guardrails import load_policy_set

    policies = load_policy_set(workflow.policy_dir, [*tools, *ask_tools(workflow)])
    return [
        {"id": r.id, "effect": r.on_match if r.effect == "forbid" else "permit", "reason": r.reason}
        for r in policies.rules.values()
    ]


def _agents(workflow: Workflow) -> list[dict[str, Any]]:
    if workflow.agents_dir is None:
        return []
    from core.mesh import load_mesh

    mesh = load_mesh(workflow.agents_dir)
    return [
        {
            "name": p.name,
            "home_cloud": p.home_cloud,
            "tools": list(p.tools),
            "delegates": list(p.delegates),
            "side_effects": list(p.side_effects),
        }
        for p in mesh.profiles.values()
    ]


def _warnings(tools: list[Tool], documents: dict[str, SpecDocument]) -> list[str]:
    found: list[str] = []
    for tool in tools:
        if tool.location is not Location.EXTERNAL:
            continue
        doc = documents.get(tool.spec.source) if tool.spec else None
        key = operation_key(tool)
        labels = effective_labels(doc.document).get(key or "", {}) if doc else {}
        if "x-paddock-trust" not in labels:
            found.append(
                f"{tool.name}: on a third-party host and its trust was never set by the "
                f"operator (treated as {tool.trust.value}); set x-paddock-trust in an overlay"
            )
    return found


def _unconfirmed(documents: tuple[SpecDocument, ...]) -> list[dict[str, Any]]:
    return [
        {"spec": d.source, "where": where, "label": key, "value": value}
        for d in documents
        for where, labels in sorted(d.vendor_labels.items())
        for key, value in sorted(labels.items())
    ]
