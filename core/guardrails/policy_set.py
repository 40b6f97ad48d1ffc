"""Business rules as Cedar policies, validated against a schema generated from the catalog.

Each catalog tool is a Cedar action (``Action::"create_purchase_order"``) in one of the groups
``Action::"read"``, ``Action::"write"`` and ``Action::"destructive"``, themselves in
``Action::"call"``; the principal is ``Tenant::"<tenant>"``; the resource is
``Tool::"<name>"`` with attributes ``side_effect``, ``location`` and ``trust``. Per-tool actions
let the schema type ``context.args`` exactly for each tool, so a rule that names an argument
or attribute the tool does not have fails validation when the policy is loaded.

Every policy carries ``@id("rule_id")``; a ``forbid`` with ``@effect("require_approval")``
asks for a human instead of denying; ``@reason("...")`` is the message the model sees.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cedarpy
import yaml

from core.domain import Run, Tool
from core.errors import ConfigError
from core.guardrails.cedar_types import CType, from_json_schema, record
from core.guardrails.context import build_context, context_type
from core.guardrails.findings import Finding, deny, needs_approval
from core.guardrails.labels import labels_type, labels_value
from core.guardrails.policy_config import PolicyConfig, parse_config
from core.guardrails.policy_lint import check_attribute_paths, context_needs, project
from core.guardrails.provenance import ProvenanceIndex

GROUPS = ("call", "read", "write", "destructive")
EFFECTS = ("deny", "require_approval")
RESERVED_IDS = frozenset(
    {
        "unknown_tool",
        "schema",
        "entitlement",
        "provenance",
        "out_of_catalog_target",
        "low_confidence",
        "destructive_default",
        "no_permit",
        "policy_error",
        "guard_error",
        "loop_detected",
        "help_request",
        "schema_drift",
        "untrusted_destination",
        "confidential_egress",
        "stored_injection",
        "rejected_again",
    }
)
CONFIG_FILE = "policy.yaml"


@dataclass(frozen=True)
class Rule:
    """One loaded policy: its rule id, Cedar effect, what a match means, its message."""

    id: str
    effect: str
    on_match: str
    reason: str


class PolicySet:
    """A loaded, validated Cedar policy set bound to the catalog it was validated against.

    Build with ``load_policy_set`` (files) or ``PolicySet.from_text``. Immutable; safe to
    share between threads.
    """

    def __init__(
        self,
        text: str,
        tools: Sequence[Tool],
        *,
        config: PolicyConfig | None = None,
        source: str = "<policy>",
    ) -> None:
        self.source = source
        self.config = config or PolicyConfig(amounts={})
        self.tools = tuple(tools)
        self.tool_names = [t.name for t in tools]
        self._check_tool_names()
        self._arg_types = {t.name: from_json_schema(t.args_schema) or record({}) for t in tools}
        self._label_types = {t.name: labels_type(t.args_schema) for t in tools}
        self._contexts = {
            t.name: context_type(
                self._arg_types[t.name],
                self.config,
                self.tool_names,
                labels=self._label_types[t.name],
            )
            for t in tools
        }
        self.schema_json = self._schema(tools)
        self._schema_handle = cedarpy.Schema.from_json_str(json.dumps(self.schema_json))
        self.rules = self._parse(text)
        self._validate(text)
        self._needs = self._analyse(text)
        self.digest = hashlib.sha256(
            (text + json.dumps(self.schema_json, sort_keys=True)).encode()
        ).hexdigest()
        self._policies = self._evaluation_set(text)
        self._entities = cedarpy.Entities.from_json_str(
            json.dumps([_tool_entity(t) for t in tools]), schema=self._schema_handle
        )

    @classmethod
    def from_text(
        cls,
        text: str,
        tools: Sequence[Tool],
        *,
        config: dict[str, Any] | None = None,
        source: str = "<policy>",
    ) -> PolicySet:
        """Load policies from Cedar text and an optional ``policy.yaml``-shaped mapping."""
        return cls(text, tools, config=parse_config(config, tools, source=source), source=source)

    @property
    def schema_text(self) -> str:
        """The generated Cedar schema, in Cedar's human-readable syntax."""
        return str(self._schema_handle)

    def evaluate(
        self,
        run: Run,
        tool: Tool,
        args: dict[str, Any],
        *,
        confidence: float | None = None,
        index: Callable[[], ProvenanceIndex] | None = None,
    ) -> list[Finding]:
        """The rules that fire for this call; a deny when nothing permits it. Never raises.

        ``index`` gives the run's provenance index when a rule reads ``context.labels``
        (built from ``run`` when not given)."""
        if tool.name not in self._arg_types:
            return [
                deny(
                    "policy_error",
                    f"tool {tool.name!r} is not in the catalog the policy "
                    f"set {self.source} was validated against",
                )
            ]
        needs = self._needs[tool.name]
        labels = None
        if needs is None or "labels" in needs:
            pools = index() if index is not None else ProvenanceIndex(run)
            labels = labels_value(self._label_types[tool.name], args, pools)
        try:
            context = project(
                build_context(
                    run,
                    tool,
                    args,
                    args_type=self._arg_types[tool.name],
                    config=self.config,
                    tool_names=self.tool_names,
                    confidence=confidence,
                    labels=labels,
                ),
                needs,
            )
        except ValueError as exc:
            return [deny("policy_error", f"cannot evaluate the policy for this call: {exc}")]
        request = {
            "principal": {"type": "Tenant", "id": run.tenant},
            "action": {"type": "Action", "id": tool.name},
            "resource": {"type": "Tool", "id": tool.name},
            "context": context,
        }
        result = self._authorize(request)
        if isinstance(result, Finding):
            return [result]
        fired = set(result.diagnostics.reasons)
        matched = [rule for pid, rule in self.rules.items() if pid in fired]  # file order
        if not result.allowed:
            found = [deny(rule.id, rule.reason) for rule in matched]
            return found or [
                deny("no_permit", f"no policy rule permits {tool.name} for tenant {run.tenant!r}")
            ]
        approvals = [
            needs_approval(r.id, r.reason) for r in matched if r.on_match == "require_approval"
        ]
        if len(approvals) == len(matched):
            return [
                deny("no_permit", f"no policy rule permits {tool.name} for tenant {run.tenant!r}"),
                *approvals,
            ]
        return approvals

    def _authorize(self, request: dict[str, Any]) -> cedarpy.AuthzResult | Finding:
        # The context is encoded from the very types the schema was generated from, and the
        # policies were validated against that schema at load: the per-request schema check
        # would cost a third of the evaluation and could only repeat what is known.
        result = cedarpy.is_authorized(request, self._policies, self._entities)
        errors = list(result.diagnostics.errors)
        if errors:
            # Cedar skips a policy that errors; a skipped forbid must not let a call through.
            return deny(
                "policy_error",
                "policy evaluation failed, so the call is refused: "
                + "; ".join(map(str, errors))[:500],
            )
        return result

    def _check_tool_names(self) -> None:
        clash = sorted(set(self.tool_names) & set(GROUPS))
        if clash or len(set(self.tool_names)) != len(self.tool_names):
            raise ConfigError(
                f"{self.source}: tool names must be unique and not one of "
                f"{GROUPS} (got {clash or 'duplicates'})"
            )

    def _schema(self, tools: Sequence[Tool]) -> dict[str, Any]:
        tool_attrs = {name: {"type": "String"} for name in ("side_effect", "location", "trust")}
        actions: dict[str, Any] = {"call": {}}
        for group in GROUPS[1:]:
            actions[group] = {"memberOf": [{"id": "call"}]}
        for tool in tools:
            ctx: CType = self._contexts[tool.name]
            actions[tool.name] = {
                "memberOf": [{"id": tool.side_effect.value}],
                "appliesTo": {
                    "principalTypes": ["Tenant"],
                    "resourceTypes": ["Tool"],
                    "context": ctx.schema(),
                },
            }
        return {
            "": {
                "entityTypes": {
                    "Tenant": {"shape": {"type": "Record", "attributes": {}}},
                    "Tool": {"shape": {"type": "Record", "attributes": tool_attrs}},
                },
                "actions": actions,
            }
        }

    def _parse(self, text: str) -> dict[str, Rule]:
        try:
            parsed = json.loads(cedarpy.policies_to_json_str(text))
        except ValueError as exc:
            raise ConfigError(f"{self.source}: Cedar syntax error: {exc}") from exc
        if parsed.get("templates"):
            raise ConfigError(f"{self.source}: policy templates are not supported")
        rules: dict[str, Rule] = {}
        for pid, policy in parsed.get("staticPolicies", {}).items():
            rules[pid] = self._rule(pid, policy)
        ids = [r.id for r in rules.values()]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ConfigError(f"{self.source}: duplicate @id {dupes}")
        if not rules:
            raise ConfigError(f"{self.source}: no policies")
        return rules

    def _rule(self, pid: str, policy: dict[str, Any]) -> Rule:
        notes = policy.get("annotations") or {}
        rule_id, effect = notes.get("id"), policy.get("effect")
        if not rule_id:
            raise ConfigError(f'{self.source}: {pid} ({effect}) has no @id("...") annotation')
        if rule_id in RESERVED_IDS:
            raise ConfigError(f"{self.source}: @id({rule_id!r}) is reserved for built-in rules")
        on_match = notes.get("effect", "deny")
        if on_match not in EFFECTS or (on_match != "deny" and effect != "forbid"):
            raise ConfigError(
                f"{self.source}: {rule_id}: @effect must be one of {EFFECTS}, "
                "and require_approval only on a forbid"
            )
        default = (
            f"policy rule {rule_id} requires human approval for this call"
            if on_match == "require_approval"
            else f"policy rule {rule_id} forbids it"
        )
        return Rule(
            id=rule_id, effect=str(effect), on_match=on_match, reason=notes.get("reason") or default
        )

    def _validate(self, text: str) -> None:
        result = cedarpy.validate_policies(text, self._schema_handle)
        if not result.validation_passed:
            names = {pid: rule.id for pid, rule in self.rules.items()}
            lines = [
                f"{names.get(e.policy_id, e.policy_id or 'parse')}: {e.error}"
                for e in result.errors
            ]
            raise ConfigError(
                f"{self.source}: the policies do not validate against the "
                f"catalog schema, refusing to load: " + "; ".join(lines)
            )

    def _analyse(self, text: str) -> dict[str, Any]:
        """Refuse rules that test impossible attributes; return each tool's context needs."""
        groups = {"call": list(self.tool_names)}
        for group in GROUPS[1:]:
            groups[group] = [t.name for t in self.tools if t.side_effect.value == group]
        policies = json.loads(cedarpy.policies_to_json_str(text)).get("staticPolicies", {})
        check_attribute_paths(
            policies,
            {pid: rule.id for pid, rule in self.rules.items()},
            contexts=self._contexts,
            groups=groups,
            source=self.source,
        )
        return context_needs(policies, contexts=self._contexts, groups=groups)

    def _evaluation_set(self, text: str) -> cedarpy.PolicySet:
        """The policies as evaluated: approval rules turned into permits.

        One evaluation then answers everything: a hard ``forbid`` that matches denies (and
        Cedar names it); otherwise the permits that matched name the approval rules that
        fired, and at least one ordinary permit must be among them.
        """
        parsed = json.loads(cedarpy.policies_to_json_str(text))
        for pid, policy in parsed["staticPolicies"].items():
            if self.rules[pid].on_match == "require_approval":
                policy["effect"] = "permit"
        parsed.setdefault("templateLinks", [])
        return cedarpy.PolicySet.from_json_str(json.dumps(parsed))


def _tool_entity(tool: Tool) -> dict[str, Any]:
    return {
        "uid": {"type": "Tool", "id": tool.name},
        "parents": [],
        "attrs": {
            "side_effect": tool.side_effect.value,
            "location": tool.location.value,
            "trust": tool.trust.value,
        },
    }


def load_policy_set(path_or_dir: str | Path, catalog_tools: Sequence[Tool]) -> PolicySet:
    """Load ``*.cedar`` (and ``policy.yaml``) from a folder, or one ``.cedar`` file.

    Raises ``ConfigError`` when a file is missing, does not parse, or a policy does not
    validate against the catalog: a policy set that cannot be fully loaded is never used.
    """
    path = Path(path_or_dir)
    if path.is_dir():
        files, folder = sorted(path.glob("*.cedar")), path
    elif path.is_file():
        files, folder = [path], path.parent
    else:
        raise ConfigError(f"policy path {path} does not exist")
    if not files:
        raise ConfigError(f"no .cedar files in {path}")
    texts = []
    for file in files:
        text = file.read_text(encoding="utf-8")
        try:
            cedarpy.policies_to_json_str(text)
        except ValueError as exc:
            raise ConfigError(f"{file}: Cedar syntax error: {exc}") from exc
        texts.append(text)
    config_path = folder / CONFIG_FILE
    data: Any = None
    if config_path.is_file():
        try:
            data = yaml.safe_load(config_path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise ConfigError(f"{config_path}: invalid YAML: {exc}") from exc
    config = parse_config(data, catalog_tools, source=str(config_path))
    return PolicySet("\n".join(texts), catalog_tools, config=config, source=str(path))
