"""Separation of duties: which held calls need a second person to approve them.

A workflow names, in its ``four_eyes`` setting, the calls whose approval the requester of the
run may never give: by tool name, by side-effect class and by the id of the rule that held the
call. Calls of a run without a workflow (a catalog run) get :data:`DEFAULT_FOUR_EYES`: every
destructive call, every call the built-in ``provenance`` rule held (a write carrying values
seen only in untrusted text), and every call held by a rule annotated
``@four_eyes("required")``.

In a workflow bundle (``paddock.yaml``) the setting reads::

    four_eyes:
      side_effects: [destructive, write]   # every call of these classes
      tools: [create_purchase_order]       # these tools, whatever their class
      rules: [provenance, po_over_threshold]  # calls held by these rule ids
      annotated_rules: true                # and by rules that carry @four_eyes("required")

Leaving a key out keeps its default; ``side_effects: []`` drops the destructive default.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field

from core.domain import SideEffect

FOUR_EYES_ANNOTATION = "four_eyes"
"""The Cedar annotation by which a rule says the calls it holds need a second person."""


class FourEyes(BaseModel):
    """Which approvals the run's requester may not give (someone else must)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    side_effects: frozenset[SideEffect] = Field(
        default_factory=lambda: frozenset({SideEffect.DESTRUCTIVE})
    )
    """Every held call of these side-effect classes (default: ``destructive``)."""
    tools: frozenset[str] = frozenset()
    """Every held call of these tools, whatever their side-effect class."""
    rules: frozenset[str] = frozenset({"provenance"})
    """Every call held by one of these rule ids (default: ``provenance``, a write whose
    arguments appear only in untrusted text, such as a changed bank account)."""
    annotated_rules: bool = True
    """Also every call held by a rule annotated ``@four_eyes("required")``."""

    def reason(
        self,
        *,
        tool: str,
        side_effect: SideEffect | None,
        rule_ids: Iterable[str],
        annotated: Iterable[str] = (),
    ) -> str | None:
        """Why a held call needs a second person (``None``: the requester may approve it).

        Args:
            tool: the call's tool.
            side_effect: the tool's class; ``None`` when the catalog no longer has the tool,
                which counts as destructive (the safe side).
            rule_ids: the rules that held the call.
            annotated: the rule ids of the workflow's policy that carry the annotation.
        """
        if tool in self.tools:
            return f"the workflow requires a second person for {tool}"
        effect = side_effect or SideEffect.DESTRUCTIVE
        if effect in self.side_effects:
            return f"the workflow requires a second person for {effect.value} calls"
        held = list(rule_ids)
        named = [r for r in held if r in self.rules]
        if self.annotated_rules:
            marked = set(annotated)
            named += [r for r in held if r in marked and r not in named]
        if named:
            return f"rule {', '.join(named)} requires a second person"
        return None


DEFAULT_FOUR_EYES = FourEyes()
"""Every destructive call, every call ``provenance`` held, every call an annotated rule held."""
