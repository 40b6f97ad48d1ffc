"""``PolicyGuard``: schema -> entitlement -> repeats -> business rules -> information flow ->
confidence."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from core.domain import Decision, ProposedCall, Run, SideEffect, Tool
from core.guardrails.findings import Finding, deny, fold, has_deny, needs_approval
from core.guardrails.flow_checks import provenance_findings
from core.guardrails.labels import public_tools_of
from core.guardrails.policy_set import PolicySet
from core.guardrails.provenance import IndexCache, host_of
from core.guardrails.repeats import rejected_again
from core.guardrails.schema_check import ArgsValidator


@dataclass(frozen=True)
class _Check:
    run: Run
    tool: Tool
    args: dict[str, Any]
    confidence: float | None


Stage = Callable[[_Check], list[Finding]]


class PolicyGuard:
    """The guardrail pipeline; implements ``Guard``.

    Stages run in order; each returns findings with rule ids. The first stage that denies
    ends the pipeline (later stages assume what earlier ones checked), and the decision keeps
    every reason found up to there. Approval findings from all stages are collected.

    Args:
        policies: the business rules; ``None`` applies the default policy (reads allowed,
            writes allowed when their arguments are trusted, destructive calls need approval).
        approval_confidence: a planner confidence below this needs approval.
        max_arg_chars: the longest string any argument may hold.
        allowed_hosts: hosts a URL argument may target besides the catalog's own; reads
            steered to them by untrusted text need no approval.
        untrusted_texts: third-party texts that are not in any run's history, as
            ``(label, text)`` pairs (e.g. vendor descriptions of tools): values in them count
            as untrusted content in every run this guard checks.
        public_tools: tools of the operator's own systems whose results are not confidential
            (added to those whose response schema says ``x-paddock-confidentiality: public``).
    """

    def __init__(
        self,
        *,
        policies: PolicySet | None = None,
        approval_confidence: float = 0.6,
        max_arg_chars: int = 10_000,
        allowed_hosts: Collection[str] = (),
        untrusted_texts: Iterable[tuple[str, str]] = (),
        public_tools: Collection[str] = (),
    ) -> None:
        self.policies = policies
        self.approval_confidence = approval_confidence
        self.validator = ArgsValidator(max_arg_chars=max_arg_chars)
        catalog = policies.tools if policies is not None else ()
        self._indexes = IndexCache(
            untrusted_texts=untrusted_texts,
            public_tools=frozenset(public_tools) | public_tools_of(catalog),
        )
        self._hosts = frozenset(h.lower() for h in allowed_hosts) | _catalog_hosts(
            policies.tools if policies is not None else ()
        )
        self._stages: Sequence[Stage] = (
            self._schema,
            self._entitlement,
            self._repeats,
            self._rules,
            self._provenance,
            self._confidence,
        )

    def check(
        self, run: Run, tool: Tool | None, call: ProposedCall, *, confidence: float | None = None
    ) -> Decision:
        """Decide on one proposed call. Never raises: an internal failure is a deny."""
        if tool is None:
            return fold(
                [
                    deny(
                        "unknown_tool",
                        f"unknown tool {call.tool!r}: it is not in this "
                        "run's catalog; call only the tools listed",
                    )
                ]
            )
        found: list[Finding] = []
        check = _Check(run=run, tool=tool, args=call.args, confidence=confidence)
        try:
            for stage in self._stages:
                found.extend(stage(check))
                if has_deny(found):
                    break
        except Exception as exc:  # a guard that crashes must still refuse the call
            found.append(
                deny(
                    "guard_error",
                    f"the guard failed ({type(exc).__name__}: {exc}); the call is refused",
                )
            )
        return fold(found)

    def _schema(self, c: _Check) -> list[Finding]:
        return self.validator.check(c.tool, c.args)

    def _entitlement(self, c: _Check) -> list[Finding]:
        grant = c.run.grant
        if grant.tools is not None and c.tool.name not in grant.tools:
            return [deny("entitlement", f"this run is not entitled to call {c.tool.name}")]
        if c.tool.side_effect.value not in grant.side_effects:
            return [
                deny(
                    "entitlement",
                    f"this run may not make {c.tool.side_effect.value} "
                    f"calls ({c.tool.name}); allowed: "
                    f"{', '.join(grant.side_effects) or 'none'}",
                )
            ]
        return []

    def _repeats(self, c: _Check) -> list[Finding]:
        found = rejected_again(c.run, c.tool.name, c.args)
        return [found] if found is not None else []

    def _rules(self, c: _Check) -> list[Finding]:
        found = []
        if self.policies is not None:
            found = self.policies.evaluate(
                c.run,
                c.tool,
                c.args,
                confidence=c.confidence,
                index=lambda: self._indexes.get(c.run),
            )
        strict = self.policies is None or self.policies.config.destructive_requires_approval
        if strict and c.tool.side_effect is SideEffect.DESTRUCTIVE:
            found.append(
                needs_approval(
                    "destructive_default", f"{c.tool.name} is destructive and needs human approval"
                )
            )
        return found

    def _provenance(self, c: _Check) -> list[Finding]:
        hosts = (
            self._hosts
            | _catalog_hosts([c.tool])
            | {h for h in map(host_of, c.run.base_urls.values()) if h}
        )
        return provenance_findings(
            c.run, c.tool, c.args, allowed_hosts=hosts, indexes=self._indexes
        )

    def _confidence(self, c: _Check) -> list[Finding]:
        if c.confidence is not None and c.confidence < self.approval_confidence:
            return [
                needs_approval(
                    "low_confidence",
                    f"the planner's confidence {c.confidence:.2f} is below "
                    f"{self.approval_confidence:.2f}",
                )
            ]
        return []


def _catalog_hosts(tools: Sequence[Tool]) -> frozenset[str]:
    endpoints = (t.binding.endpoint for t in tools)
    return frozenset(h for h in (host_of(e) for e in endpoints if e) if h)
