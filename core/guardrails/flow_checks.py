"""The information-flow checks of one proposed call, over a ``ProvenanceIndex``.

- ``out_of_catalog_target`` (deny, any call): a URL to a host neither the catalog nor the
  operator names.
- ``untrusted_destination`` (approval, reads): a host or bare domain named only by untrusted
  text, not on the operator's list.
- ``confidential_egress`` (approval, any call to a third-party host, once the run has seen
  untrusted content): an argument carries a confidential value (Rule of Two).
- ``provenance`` (approval, writes): an argument value that appears in untrusted content and
  in no trusted source; or a high-risk argument (``core.guardrails.risk``) with no trusted
  origin at all.
- ``stored_injection`` (approval, writes): a free-text argument carrying a stretch of words
  copied from untrusted text.

Each reason names the argument and the source (tool, step, call) that tainted it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from core.domain import Location, Run, SideEffect, Tool
from core.guardrails.canonical import host_of, shingles, value_atom
from core.guardrails.findings import Finding, deny, needs_approval
from core.guardrails.provenance import IndexCache, ProvenanceIndex, leaf_atoms
from core.guardrails.risk import risk_kind
from core.guardrails.schema_check import arg_path, shown

Path = tuple[str | int, ...]
_SECRET_KINDS = ("i:", "e:", "d:")
"""Atoms confidential by kind: bank accounts, addresses, long digit runs. Short ids and
numbers are shared with partners all the time and are not treated as secrets."""
_FREE = frozenset({Decimal(0), Decimal(1)})
_PROSE_KINDS = ("e:", "i:", "u:", "h:", "d:")
_WORDY = re.compile(r"[^\W\d_]{3,}")
_MONTH_WORDS = frozenset(
    [
        "jan",
        "feb",
        "mar",
        "apr",
        "may",
        "jun",
        "jul",
        "aug",
        "sep",
        "oct",
        "nov",
        "dec",
        "january",
        "february",
        "march",
        "april",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "sept",
    ]
)


def is_prose(text: str) -> bool:
    """Several tokens with a real word among them (``Re: Order 4711``, not ``June 1st``).

    In prose only addresses, accounts, hosts and long digit runs are checked for taint: an
    order number or a date quoted in a sentence is not where money or data goes, and copied
    stretches are the stored-injection check's."""
    tokens = text.split()
    if len(tokens) < 2:
        return False
    return any(w not in _MONTH_WORDS for w in _WORDY.findall(text.casefold()))


@dataclass(frozen=True)
class Leaf:
    """One argument value with its path and the schema node that describes it."""

    path: Path
    value: Any
    schema: Any

    @property
    def atoms(self) -> frozenset[str]:
        return leaf_atoms(self.value)


def arg_leaves(value: Any, schema: Any, path: Path = ()) -> Iterator[Leaf]:
    """Argument leaves with their paths, skipping values fixed by the schema (enum, const)."""
    sub = schema if isinstance(schema, dict) else {}
    if "enum" in sub or "const" in sub:
        return
    if isinstance(value, dict):
        props = sub.get("properties") or {}
        for key, item in value.items():
            yield from arg_leaves(item, props.get(key), (*path, key))
    elif isinstance(value, list):
        items = sub.get("items")
        for index, item in enumerate(value):
            yield from arg_leaves(item, items, (*path, index))
    elif not isinstance(value, bool) and value is not None:
        yield Leaf(path, value, sub)


def flow_findings(
    index: Callable[[], ProvenanceIndex],
    tool: Tool,
    args: dict[str, Any],
    *,
    allowed_hosts: Collection[str],
) -> list[Finding]:
    """Every information-flow finding for one call (``index`` builds the pools on demand)."""
    leaves = list(arg_leaves(args, tool.args_schema))
    found = _targets(index, leaves, allowed_hosts)
    if found:
        return found
    if tool.side_effect is SideEffect.READ:
        found += _steered(index(), leaves, allowed_hosts)
    if tool.location is Location.EXTERNAL:
        found += _egress(index(), tool, leaves)
    if tool.side_effect is not SideEffect.READ:
        found += _writes(index(), tool, leaves, allowed_hosts)
    return found


def _targets(
    index: Callable[[], ProvenanceIndex], leaves: list[Leaf], allowed: Collection[str]
) -> list[Finding]:
    found = []
    for leaf in leaves:
        for atom in leaf.atoms:
            if not atom.startswith("u:"):
                continue
            host = host_of(atom[2:])
            if host is None or (host not in allowed and host not in index().operator_hosts):
                found.append(
                    deny(
                        "out_of_catalog_target",
                        f"{arg_path(leaf.path)}: {shown(atom[2:])} targets "
                        f"{host or 'an unreadable host'}, which is not a host of "
                        "the catalog or named by the operator",
                    )
                )
    return found


def _steered(index: ProvenanceIndex, leaves: list[Leaf], allowed: Collection[str]) -> list[Finding]:
    found = []
    for leaf in leaves:
        mailboxes = {a.rsplit("@", 1)[1] for a in leaf.atoms if a.startswith("e:")}
        for atom in sorted(leaf.atoms):
            if not atom.startswith("h:") or atom[2:] in allowed or atom[2:] in mailboxes:
                continue
            if atom[2:] in index.operator_hosts:
                continue
            source = index.tainted(atom)
            if source is not None:
                found.append(
                    needs_approval(
                        "untrusted_destination",
                        f"{arg_path(leaf.path)}: the host {shown(atom[2:])} is named only by "
                        f"{source}; reading from a destination that untrusted text chose "
                        "needs human approval",
                    )
                )
    return found


def _egress(index: ProvenanceIndex, tool: Tool, leaves: list[Leaf]) -> list[Finding]:
    if not index.saw_untrusted:
        return []
    for leaf in leaves:
        for atom in sorted(leaf.atoms):
            source = index.secret(atom) if atom.startswith(_SECRET_KINDS) else None
            if source is not None:
                return [
                    needs_approval(
                        "confidential_egress",
                        f"{arg_path(leaf.path)}: {shown(atom[2:])} is confidential (from "
                        f"{source}) and {tool.name} is a third-party service; after untrusted "
                        "content, sending it out needs human approval",
                    )
                ]
    return []


def _writes(
    index: ProvenanceIndex, tool: Tool, leaves: list[Leaf], allowed: Collection[str]
) -> list[Finding]:
    found: list[Finding] = []
    effect = tool.side_effect.value
    for leaf in leaves:
        where = arg_path(leaf.path)
        tainted = _tainted(index, leaf)
        if tainted is not None:
            atom, source = tainted
            found.append(
                needs_approval(
                    "provenance",
                    f"{where}: the value {shown(atom[2:])} appears in {source} and in no "
                    f"trusted source (goal, inputs, trusted results); a {effect} call with it "
                    "needs human approval",
                )
            )
            continue
        missing = _unproven(index, leaf, allowed)
        if missing is not None:
            kind, value = missing
            found.append(
                needs_approval(
                    "provenance",
                    f"{where}: the {kind} {shown(value)} traces to no trusted source (goal, "
                    f"inputs, a human's answer, trusted results); a {effect} call with it "
                    "needs human approval",
                )
            )
            continue
        copied = _copied(index, leaf)
        if copied is not None:
            found.append(
                needs_approval(
                    "stored_injection",
                    f"{where}: the text copies a stretch of {copied}; writing untrusted "
                    "text into the operator's systems needs human approval",
                )
            )
    return found


def _tainted(index: ProvenanceIndex, leaf: Leaf) -> tuple[str, str] | None:
    prose = isinstance(leaf.value, str) and is_prose(leaf.value)
    for atom in sorted(leaf.atoms, key=lambda a: (-len(a), a)):
        if prose and not atom.startswith(_PROSE_KINDS):
            continue  # an order number or date quoted in a sentence is not where it goes
        source = index.tainted(atom)
        if source is not None:
            return atom, source
    return None


def _unproven(
    index: ProvenanceIndex, leaf: Leaf, allowed: Collection[str]
) -> tuple[str, str] | None:
    """The high-risk part of a leaf with no trusted origin, as ``(kind, value)``."""
    found = leaf.atoms
    trusted = index.trusted.atoms
    for atom in sorted(found):
        if atom.startswith("e:") and atom not in trusted:
            return "address", atom[2:]
        if atom.startswith("i:") and atom not in trusted:
            return "account", atom[2:]
    kind = risk_kind(leaf.path, leaf.schema)
    if kind is None:
        return None
    if kind == "amount":
        for atom in sorted(a for a in found if a.startswith("n:")):
            if not _amount_ok(index, Decimal(atom[2:])):
                return "amount", atom[2:]
        return None
    if kind == "destination":
        hosts = [a[2:] for a in found if a.startswith("h:")]
        for host in hosts:
            if (
                host not in allowed
                and host not in index.operator_hosts
                and "h:" + host not in trusted
            ):
                return "destination", host
        return None
    structured = [a for a in found if a.startswith(("e:", "i:", "d:", "x:"))]
    if structured:
        return next(
            ((kind, a[2:]) for a in structured if a.startswith(("d:", "x:")) and a not in trusted),
            None,
        )
    if isinstance(leaf.value, str) and value_atom(leaf.value) not in trusted:
        return kind, leaf.value
    return None


def _amount_ok(index: ProvenanceIndex, value: Decimal) -> bool:
    """A trusted number, or one computed from an operator's number and a trusted one."""
    numbers = index.trusted.numbers
    if value in _FREE or value in numbers:
        return True
    for operand in index.operator_numbers:
        if value - operand in numbers or (operand and value / operand in numbers):
            return True
    return False


def _copied(index: ProvenanceIndex, leaf: Leaf) -> str | None:
    if not isinstance(leaf.value, str):
        return None
    for window in shingles(leaf.value):
        source = index.untrusted.windows.get(window)
        if source is not None and window not in index.trusted.windows:
            return source
    return None


def provenance_findings(
    run: Run,
    tool: Tool,
    args: dict[str, Any],
    *,
    allowed_hosts: Collection[str],
    indexes: IndexCache | None = None,
) -> list[Finding]:
    """The information-flow findings of one call against the run's history."""
    cached: list[ProvenanceIndex] = []

    def index() -> ProvenanceIndex:  # built only when a check needs it
        if not cached:
            cached.append(indexes.get(run) if indexes is not None else ProvenanceIndex(run))
        return cached[0]

    return flow_findings(index, tool, args, allowed_hosts=allowed_hosts)
