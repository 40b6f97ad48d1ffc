"""Separation of duties at decision time: does this held call need a second person?

The answer comes from the run's workflow (its ``four_eyes`` setting, ``core.workflows.four_eyes``)
and the rules of its policy folder that carry ``@four_eyes("required")``; a run without a
workflow gets the default. ``decide_approval`` then refuses the run's requester.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from core.domain import Approval, Run, SideEffect
from core.errors import ConfigError
from core.workflows.four_eyes import DEFAULT_FOUR_EYES, FOUR_EYES_ANNOTATION, FourEyes
from core.workflows.model import Workflow, WorkflowSet

REQUIRED = "required"


@dataclass(frozen=True)
class RunFourEyes:
    """A run's four-eyes setting and the rule ids its policy annotates."""

    setting: FourEyes = DEFAULT_FOUR_EYES
    annotated: frozenset[str] = frozenset()

    def reason(self, approval: Approval, side_effect: SideEffect | None) -> str | None:
        """Why ``approval`` needs someone other than the run's requester (``None``: it
        does not)."""
        return self.setting.reason(
            tool=approval.tool,
            side_effect=side_effect,
            rule_ids=approval.rule_ids,
            annotated=self.annotated,
        )


@dataclass
class WorkflowFourEyes:
    """The four-eyes setting of each run, from the workflows it may name (callable per run)."""

    workflows: Mapping[str, Workflow] = field(default_factory=dict)
    _annotated: dict[Path, frozenset[str]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __call__(self, run: Run) -> RunFourEyes:
        workflow = self._workflow_of(run)
        if workflow is None:
            return RunFourEyes()
        annotated: frozenset[str] = frozenset()
        if workflow.policy_dir is not None and workflow.four_eyes.annotated_rules:
            annotated = self._rules_of(workflow.policy_dir)
        return RunFourEyes(workflow.four_eyes, annotated)

    def _workflow_of(self, run: Run) -> Workflow | None:
        """The workflow in the version the run started with; the current one of that name
        when that version is gone (the run cannot resume, but its approvals still list)."""
        if not run.scenario:
            return None
        if isinstance(self.workflows, WorkflowSet):
            try:
                return self.workflows.for_run(run)
            except ConfigError:
                pass
        return self.workflows.get(run.scenario)

    def _rules_of(self, folder: Path) -> frozenset[str]:
        with self._lock:
            found = self._annotated.get(folder)
            if found is None:
                found = annotated_rules(folder)
                self._annotated[folder] = found
            return found


def annotated_rules(folder: Path) -> frozenset[str]:
    """The ``@id`` of every policy in ``folder`` (``*.cedar``, or one file) annotated
    ``@four_eyes("required")``; ``ConfigError`` for another value of the annotation."""
    import cedarpy

    files = sorted(folder.glob("*.cedar")) if folder.is_dir() else [folder]
    found: set[str] = set()
    for file in files:
        try:
            parsed = json.loads(cedarpy.policies_to_json_str(file.read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{file}: cannot read its policies: {exc}") from exc
        for policy in parsed.get("staticPolicies", {}).values():
            notes = policy.get("annotations") or {}
            value = notes.get(FOUR_EYES_ANNOTATION)
            if value is None:
                continue
            if value != REQUIRED:
                raise ConfigError(
                    f'{file}: {notes.get("id")}: @{FOUR_EYES_ANNOTATION} takes "{REQUIRED}", '
                    f"not {value!r}"
                )
            if notes.get("id"):
                found.add(str(notes["id"]))
    return frozenset(found)
