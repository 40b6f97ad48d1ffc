"""Per-argument information-flow labels as Cedar sees them (``context.labels``).

``context.labels`` mirrors the tool's arguments: each object argument is a record of its
properties, and every other argument (a string, a number, a list) is one label::

    { trusted: Bool,            // every distinctive part traces to a trusted source
      untrusted: Bool,          // some part also appears in untrusted content
      tainted: Bool,            // some part appears in untrusted content and no trusted source
      confidential: Bool,       // some part is confidential (own systems, not public)
      trusted_sources: Set<String>, untrusted_sources: Set<String> }

Sources are named by tool (``list_supplier_messages``) or as ``goal``, ``inputs``, ``human``.
A rule that holds bank changes whenever the IBAN also appears in untrusted content, even if
the goal names it::

    @id("iban_seen_in_untrusted") @effect("require_approval")
    forbid (principal, action == Action::"update_vendor_bank", resource)
    when { context.labels has body && context.labels.body has iban &&
           context.labels.body.iban.untrusted };
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from core.domain import Tool
from core.guardrails.canonical import evidence
from core.guardrails.cedar_types import BOOLEAN, STRING, CType, record, set_of
from core.guardrails.provenance import ProvenanceIndex, leaf_atoms, leaves

CONFIDENTIALITY_KEY = "x-paddock-confidentiality"
LABEL = record(
    {
        "trusted": (BOOLEAN, True),
        "untrusted": (BOOLEAN, True),
        "tainted": (BOOLEAN, True),
        "confidential": (BOOLEAN, True),
        "trusted_sources": (set_of(STRING), True),
        "untrusted_sources": (set_of(STRING), True),
    }
)
_MAX_DEPTH = 6
_TOOL = re.compile(r"\bof (\w+) \(step")


def public_tools_of(tools: Sequence[Tool]) -> frozenset[str]:
    """Tools whose success response schema says ``x-paddock-confidentiality: public``."""
    found = set()
    for tool in tools:
        for status, schema in tool.responses.items():
            public = isinstance(schema, dict) and schema.get(CONFIDENTIALITY_KEY) == "public"
            if status.startswith("2") and public:
                found.add(tool.name)
    return frozenset(found)


def labels_type(schema: Any, depth: int = 0) -> CType:
    """The Cedar type of ``context.labels`` for a tool with this argument schema."""
    props = schema.get("properties") if isinstance(schema, dict) else None
    if depth == 0 and not isinstance(props, dict):
        return record({})
    if not isinstance(props, dict) or depth > _MAX_DEPTH:
        return LABEL
    return record({name: (labels_type(sub, depth + 1), False) for name, sub in props.items()})


def labels_value(ctype: CType, value: Any, index: ProvenanceIndex) -> dict[str, Any]:
    """The labels of ``value`` (arguments) shaped as ``ctype``."""
    if ctype is LABEL:
        return _label(value, index)
    out: dict[str, Any] = {}
    if isinstance(value, dict):
        for name, (sub, _) in ctype.fields.items():
            if name in value and value[name] is not None:
                out[name] = labels_value(sub, value[name], index)
    return out


def source_name(label: str) -> str:
    """A source label's short name: the tool, or ``goal``, ``inputs``, ``human``."""
    if label == "the goal":
        return "goal"
    if label == "the run's inputs":
        return "inputs"
    if label.startswith("a human"):
        return "human"
    found = _TOOL.search(label)
    return found.group(1) if found else label


def _label(value: Any, index: ProvenanceIndex) -> dict[str, Any]:
    parts = {a for leaf in leaves(value) for a in leaf_atoms(leaf) if evidence(a)}
    trusted_from = {index.trusted.atoms[a] for a in parts if a in index.trusted.atoms}
    seen = {index.untrusted.atoms[a] for a in parts if a in index.untrusted.atoms}
    tainted = [a for a in parts if index.tainted(a) is not None]
    return {
        "trusted": all(a in index.trusted.atoms and a not in index.sent.atoms for a in parts),
        "untrusted": bool(seen),
        "tainted": bool(tainted),
        "confidential": any(index.secret(a) is not None for a in parts),
        "trusted_sources": sorted({source_name(s) for s in trusted_from}),
        "untrusted_sources": sorted({source_name(s) for s in seen}),
    }
