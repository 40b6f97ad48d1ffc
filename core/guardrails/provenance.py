"""Stage 4: where did each argument value come from? (the tool-injection defence).

Trusted sources are the goal, the operator's inputs, human answers and the results of trusted
tools. Untrusted sources are the results of tools marked ``x-paddock-trust: untrusted``
(inboxes, supplier messages, documents). Free text is kept whole for substring checks and
also cut into candidate tokens (IBANs, emails, URLs, ids, numbers) so that a value buried in a
sentence is still recognised.

A ``write`` or ``destructive`` call with an argument value that appears in untrusted content
and in no trusted source needs approval; a URL in any call whose host is not in the catalog
(or named by the operator) is denied.
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cached_property, lru_cache
from typing import Any
from urllib.parse import urlsplit

from core.domain import Run, SideEffect, Tool
from core.guardrails.findings import Finding, deny, needs_approval
from core.guardrails.schema_check import arg_path, shown

MIN_TEXT_MATCH = 8
"""A whole string value this long counts as copied when it occurs inside untrusted text."""
MIN_VALUE_CHARS = 4
"""Shorter strings ("EUR", "DE") are too common to say where they came from."""
MIN_DISTINCT_NUMBER = 10
"""Integers below this (1, 2, 5...) are too common to say where they came from."""

_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s\"'<>()\[\]{}]+")
_ID = re.compile(r"\b(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9][A-Za-z0-9_-]{3,}\b")
_NUMBER = re.compile(r"(?<![\w.])-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?![\w])")


def _norm(text: str) -> str:
    return " ".join(text.split()).lower()


_CACHED_TEXT = 4096


def _scan(text: str) -> tuple[str, frozenset[str], frozenset[Decimal]]:
    """Normalised text, tokens and numbers of one text. Short texts are cached, since the
    checks of a run re-read the same results; long ones are scanned each time."""
    return _scan_cached(text) if len(text) <= _CACHED_TEXT else _scan_text(text)


@lru_cache(maxsize=8192)
def _scan_cached(text: str) -> tuple[str, frozenset[str], frozenset[Decimal]]:
    return _scan_text(text)


def _scan_text(text: str) -> tuple[str, frozenset[str], frozenset[Decimal]]:
    return _norm(text), frozenset(tokens(text)), frozenset(numbers(text))


def tokens(text: str) -> set[str]:
    """Candidate tokens of free text, normalised: IBANs, emails, URLs and ids."""
    found = {m.group(0).replace(" ", "").lower() for m in _IBAN.finditer(text)}
    found.update(m.group(0).lower() for m in _EMAIL.finditer(text))
    found.update(m.group(0).rstrip(".,;:!?").lower() for m in _URL.finditer(text))
    found.update(m.group(0).lower() for m in _ID.finditer(text))
    return found


def numbers(text: str) -> set[Decimal]:
    """The numbers written in free text (``25,000`` and ``25000.00`` are both 25000)."""
    found = set()
    for match in _NUMBER.finditer(text):
        number = _decimal(match.group(0).replace(",", ""))
        if number is not None:
            found.add(number)
    return found


def urls(text: str) -> list[str]:
    return [m.group(0).rstrip(".,;:!?") for m in _URL.finditer(text)]


def host_of(url: str) -> str | None:
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return host.lower() if host else None


def _decimal(value: Any) -> Decimal | None:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


@dataclass
class Pool:
    """Values seen in one class of sources, each with the label of where it was first seen."""

    values: dict[str, str] = field(default_factory=dict)
    amounts: dict[Decimal, str] = field(default_factory=dict)
    texts: list[tuple[str, str]] = field(default_factory=list)

    def add(self, value: Any, label: str) -> None:
        """Add a JSON value (walked to its leaves) seen in a source called ``label``."""
        for leaf in _leaves(value):
            if isinstance(leaf, str):
                self.add_text(leaf, label)
            elif isinstance(leaf, int | float) and not isinstance(leaf, bool):
                number = _decimal(leaf)
                if number is not None:
                    self.amounts.setdefault(number, label)

    def add_text(self, text: str, label: str) -> None:
        norm, found, amounts = _scan(text)
        if not norm:
            return
        self.values.setdefault(norm, label)
        for token in found:
            self.values.setdefault(token, label)
        for number in amounts:
            self.amounts.setdefault(number, label)
        self.texts.append((norm, label))

    def find(self, candidate: str, *, min_substring: int) -> str | None:
        """Where ``candidate`` (normalised) was seen: as a value, a token or inside text."""
        hit = self.values.get(candidate)
        if hit is not None or len(candidate) < min_substring:
            return hit
        return next((label for text, label in self.texts if candidate in text), None)

    def find_number(self, number: Decimal) -> str | None:
        return self.amounts.get(number)


class ProvenanceIndex:
    """Everything the run has seen, split into trusted and untrusted pools.

    Each pool is built on first use: most checks never need the trusted one, because no
    argument value appears in untrusted content to begin with.
    """

    def __init__(self, run: Run) -> None:
        self.run = run

    @classmethod
    def from_run(cls, run: Run) -> ProvenanceIndex:
        return cls(run)

    def build(self) -> ProvenanceIndex:
        """Build both pools now instead of on first use."""
        _ = self.trusted, self.untrusted, self.operator_hosts
        return self

    @staticmethod
    def fingerprint(run: Run) -> str:
        """Everything the index depends on, as text: equal fingerprints, equal indexes."""
        sources = [
            (s.index, c.call_id, c.tool, c.untrusted, c.quarantined, c.result)
            for s in run.steps
            for c in s.calls
            if c.result is not None
        ]
        return json.dumps([run.goal, run.inputs, sources], default=str, ensure_ascii=False)

    @cached_property
    def operator_hosts(self) -> set[str]:
        """Hosts of URLs the operator wrote in the goal or the inputs."""
        texts = [self.run.goal, *(s for s in _leaves(self.run.inputs) if isinstance(s, str))]
        return {h for text in texts for h in map(host_of, urls(text)) if h}

    @cached_property
    def trusted(self) -> Pool:
        pool = Pool()
        pool.add_text(self.run.goal, "the goal")
        pool.add(self.run.inputs, "the run's inputs")
        self._add_results(pool, untrusted=False)
        return pool

    @cached_property
    def untrusted(self) -> Pool:
        pool = Pool()
        self._add_results(pool, untrusted=True)
        return pool

    def _add_results(self, pool: Pool, *, untrusted: bool) -> None:
        for step in self.run.steps:
            for call in step.calls:
                if call.result is None or call.quarantined or call.untrusted is not untrusted:
                    continue
                where = f"{call.tool} (step {step.number}, call {call.call_id})"
                label = ("the untrusted output of " if untrusted else "the output of ") + where
                pool.add(call.result, label)


class IndexCache:
    """Recent indexes by fingerprint: every check of one step sees the same history, and
    rebuilding the pools costs more than the rest of a decision."""

    def __init__(self, size: int = 64) -> None:
        self._size = size
        self._items: OrderedDict[str, ProvenanceIndex] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, run: Run) -> ProvenanceIndex:
        key = ProvenanceIndex.fingerprint(run)
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
            # Built in full now: the caller may change ``run`` once the check is over.
            found = self._items[key] = ProvenanceIndex(run).build()
            while len(self._items) > self._size:
                self._items.popitem(last=False)
            return found


def _leaves(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _leaves(item)
    else:
        yield value


def _arg_leaves(
    value: Any, schema: Any, path: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    """Argument leaves with their paths, skipping values fixed by the schema (enum, const)."""
    sub = schema if isinstance(schema, dict) else {}
    if "enum" in sub or "const" in sub:
        return
    if isinstance(value, dict):
        props = sub.get("properties") or {}
        for key, item in value.items():
            yield from _arg_leaves(item, props.get(key), (*path, key))
    elif isinstance(value, list):
        items = sub.get("items")
        for index, item in enumerate(value):
            yield from _arg_leaves(item, items, (*path, index))
    elif not isinstance(value, bool) and value is not None:
        yield path, value


def _candidates(value: str) -> set[str]:
    found = tokens(value)
    norm = _norm(value)
    if len(norm) >= MIN_VALUE_CHARS:
        found.add(norm)
    return found


def untrusted_origin(index: ProvenanceIndex, value: Any) -> tuple[str, str] | None:
    """``(the value or token, its untrusted source)`` when it came only from untrusted text."""
    if isinstance(value, str):
        for candidate in sorted(_candidates(value), key=len, reverse=True):
            seen = index.untrusted.find(candidate, min_substring=MIN_TEXT_MATCH)
            if seen and index.trusted.find(candidate, min_substring=MIN_VALUE_CHARS) is None:
                return candidate, seen
        found = numbers(value)
    else:
        number = _decimal(value)
        found = {number} if number is not None else set()
    for number in found:
        if number == number.to_integral_value() and abs(number) < MIN_DISTINCT_NUMBER:
            continue
        seen = index.untrusted.find_number(number)
        if seen and index.trusted.find_number(number) is None:
            return str(number), seen
    return None


def provenance_findings(
    run: Run,
    tool: Tool,
    args: dict[str, Any],
    *,
    allowed_hosts: Collection[str],
    indexes: IndexCache | None = None,
) -> list[Finding]:
    """Out-of-catalog targets (deny, any call) and untrusted argument values (writes)."""
    cached: list[ProvenanceIndex] = []

    def index() -> ProvenanceIndex:  # built only when a check needs it
        if not cached:
            cached.append(indexes.get(run) if indexes is not None else ProvenanceIndex(run))
        return cached[0]

    found: list[Finding] = []
    leaves = list(_arg_leaves(args, tool.args_schema))
    for path, value in leaves:
        if not isinstance(value, str):
            continue
        for url in urls(value):
            host = host_of(url)
            if host is None or (host not in allowed_hosts and host not in index().operator_hosts):
                found.append(
                    deny(
                        "out_of_catalog_target",
                        f"{arg_path(path)}: {shown(url)} targets "
                        f"{host or 'an unreadable host'}, which is not a host of "
                        "the catalog or named by the operator",
                    )
                )
    if found or tool.side_effect is SideEffect.READ:
        return found
    for path, value in leaves:
        origin = untrusted_origin(index(), value)
        if origin is not None:
            found.append(
                needs_approval(
                    "provenance",
                    f"{arg_path(path)}: the value {shown(origin[0])} appears in {origin[1]} and in "
                    f"no trusted source (goal, inputs, trusted results); "
                    f"a {tool.side_effect.value} "
                    "call with it needs human approval",
                )
            )
    return found
