"""Stage 4: where did each value come from, and where may it go? (information-flow labels).

Every value the planner has seen is cut into canonical atoms (``core.guardrails.canonical``)
and filed in labelled pools as the history is replayed in order:

- **integrity**: *trusted* sources are the goal, the operator's inputs, human answers and the
  results of trusted tools **whose arguments were themselves trusted**; everything else is
  *untrusted*: the results of ``x-paddock-trust: untrusted`` tools, the results of any call
  that carried an untrusted value (an echo, a lookup keyed by an injected id, a child run that
  read untrusted text), and extra third-party texts registered with the index (a vendor's tool
  description). A value the run once sent out from untrusted text stays untrusted when it
  comes back, even in a trusted tool's result (a note written, approved, then read back):
  approval authorises an action, it never makes data trusted.
- **confidentiality**: results of the operator's own systems (tools located in ``aws`` or
  ``azure``) are *confidential* unless the tool is marked public; the goal, inputs, human
  answers and third-party results are not.

The checks that use the pools are in ``core.guardrails.flow_checks``.
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Collection, Hashable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any

from core.domain import CallRecord, Run
from core.guardrails.canonical import (
    atoms,
    evidence,
    host_of,
    number_atom,
    numbers,
    shingles,
    words,
)

HELP_TOOL = "request_human_help"
OWN_CLOUDS = frozenset({"aws", "azure"})
_STICKY_KINDS = ("e:", "i:", "d:")
"""Atom kinds that cannot be computed, so a value of this kind with no trusted origin that the
run sent out stays untrusted when a trusted tool returns it."""

__all__ = [
    "IndexCache",
    "Pool",
    "ProvenanceIndex",
    "host_of",
    "leaf_atoms",
    "leaves",
    "untrusted_origin",
]


def leaves(value: Any) -> Iterator[Any]:
    """The scalar leaves of a JSON value."""
    if isinstance(value, dict):
        for item in value.values():
            yield from leaves(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from leaves(item)
    else:
        yield value


def leaf_atoms(value: Any) -> frozenset[str]:
    """The atoms of one scalar (a number is its own atom)."""
    if isinstance(value, str):
        return atoms(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return frozenset({number_atom(Decimal(str(value)))})
        except ArithmeticError:
            return frozenset()
    return frozenset()


@dataclass
class Pool:
    """Atoms (and free-text windows) seen in one class of sources, each with the label of the
    source it was first seen in."""

    atoms: dict[str, str] = field(default_factory=dict)
    windows: dict[int, str] = field(default_factory=dict)
    numbers: set[Decimal] = field(default_factory=set)

    def copy(self) -> Pool:
        return Pool(dict(self.atoms), dict(self.windows), set(self.numbers))

    def add(self, value: Any, label: str, *, divert: Pool | None = None) -> None:
        """File every leaf of a JSON value; atoms in ``divert.sticky`` go to ``divert``."""
        for leaf in leaves(value):
            if isinstance(leaf, str):
                self.add_text(leaf, label, divert=divert)
            else:
                for atom in leaf_atoms(leaf):
                    self._file(atom, label, divert)

    def add_text(self, text: str, label: str, *, divert: Pool | None = None) -> None:
        for atom in atoms(text):
            self._file(atom, label, divert)
        for window in shingles(text):
            self.windows.setdefault(window, label)

    def _file(self, atom: str, label: str, divert: Pool | None) -> None:
        target = divert if divert is not None and atom in divert.atoms else self
        target.atoms.setdefault(atom, label)
        if atom.startswith("n:"):
            target.numbers.add(Decimal(atom[2:]))


class ProvenanceIndex:
    """Labelled pools of everything the run has seen, built by replaying its history.

    Args:
        run: the run; ``run.steps`` is the history (the step being planned is not in it).
        untrusted_texts: extra third-party texts as ``(label, text)`` pairs, e.g. the vendor
            descriptions of the tools (``"the vendor description of get_rates"``): every value
            in them counts as untrusted content. This is the hook for sources the history does
            not show.
        public_tools: tools whose results are not confidential although they run on the
            operator's systems.
    """

    def __init__(
        self,
        run: Run,
        *,
        untrusted_texts: Iterable[tuple[str, str]] = (),
        public_tools: Collection[str] = (),
    ) -> None:
        self.run = run
        self.trusted = Pool()
        self.untrusted = Pool()
        self.sent = Pool()
        """Atoms the run sent out with no trusted origin: they never become trusted."""
        self.confidential = Pool()
        self.public = Pool()
        self.operator_numbers: set[Decimal] = set()
        """Numbers the operator or a human wrote (goal, inputs, answers): computed amounts
        must use one of them."""
        self._public_tools = frozenset(public_tools)
        self._untrusted_texts = tuple(untrusted_texts)
        self._build()

    @staticmethod
    def fingerprint(run: Run, extra: str = "") -> str:
        """Everything the index depends on, as text: equal fingerprints, equal indexes."""
        sources = [
            (s.index, c.call_id, c.tool, c.untrusted, c.quarantined, c.cloud, c.args, c.result)
            for s in run.steps
            for c in s.calls
            if c.result is not None
        ]
        return json.dumps([run.goal, run.inputs, sources, extra], default=str, ensure_ascii=False)

    @cached_property
    def operator_hosts(self) -> set[str]:
        """Hosts the operator wrote in the goal or the inputs."""
        texts = [self.run.goal, *(s for s in leaves(self.run.inputs) if isinstance(s, str))]
        return {a[2:] for text in texts for a in atoms(text) if a.startswith("h:")}

    @property
    def saw_untrusted(self) -> bool:
        return bool(self.untrusted.atoms or self.untrusted.windows)

    def tainted(self, atom: str) -> str | None:
        """The untrusted source of ``atom`` when it has no trusted one (evidence atoms only)."""
        if not evidence(atom):
            return None
        sent = self.sent.atoms.get(atom)
        if sent is not None:
            return sent
        if atom in self.trusted.atoms:
            return None
        return self.untrusted.atoms.get(atom)

    def secret(self, atom: str) -> str | None:
        """The confidential source of ``atom`` when no public source has it."""
        if atom in self.public.atoms or not evidence(atom):
            return None
        return self.confidential.atoms.get(atom)

    def _build(self) -> None:
        run = self.run
        self.trusted.add_text(run.goal, "the goal")
        self.public.add_text(run.goal, "the goal")
        self.trusted.add(run.inputs, "the run's inputs")
        self.public.add(run.inputs, "the run's inputs")
        self._operator_text(run.goal, "the goal")
        for leaf in leaves(run.inputs):
            self._operator_text(leaf, "the run's inputs")
        for label, text in self._untrusted_texts:
            self.untrusted.add_text(text, label)
        self._replay_calls(skip=0)

    def extended(self, run: Run, replayed: int) -> ProvenanceIndex:
        """A copy that also holds the results of ``run`` after its first ``replayed``.

        ``run`` must continue this index's history (same goal and inputs, and its first
        ``replayed`` results are the ones this index holds): replaying only the new steps
        keeps the first check of each step cheap on long runs."""
        new = copy.copy(self)
        new.__dict__.pop("operator_hosts", None)
        new.run = run
        for name in ("trusted", "untrusted", "sent", "confidential", "public"):
            setattr(new, name, getattr(self, name).copy())
        new.operator_numbers = set(self.operator_numbers)
        new._replay_calls(skip=replayed)
        return new

    def _replay_calls(self, *, skip: int) -> None:
        seen = 0
        for step in self.run.steps:
            for call in step.calls:
                if call.result is None:
                    continue
                seen += 1
                if seen > skip and not call.quarantined:
                    self._replay(step.index, call)

    def _operator_text(self, value: Any, label: str) -> None:
        if isinstance(value, str):
            self.operator_numbers.update(numbers(value.casefold()))
            # Names the operator wrote ("send it to Alice") are trusted as word runs.
            found = words(value)
            for size in (1, 2, 3):
                for i in range(len(found) - size + 1):
                    self.trusted.atoms.setdefault("v:" + " ".join(found[i : i + size]), label)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            self.operator_numbers.add(Decimal(str(value)))

    def _replay(self, index: int, call: CallRecord) -> None:
        where = f"{call.tool} (step {index}, call {call.call_id})"
        if call.tool == HELP_TOOL:
            self.trusted.add(call.result, f"a human's answer (step {index})")
            self.public.add(call.result, f"a human's answer (step {index})")
            for leaf in leaves(call.result):
                self._operator_text(leaf, f"a human's answer (step {index})")
            return
        carried = self._carried(call.args)
        if call.untrusted:
            self.untrusted.add(call.result, f"the untrusted output of {where}")
        elif carried is not None:
            atom, source = carried
            label = f"the output of {where}, a call that carried {atom[2:]!r} from {source}"
            self.untrusted.add(call.result, label)
        else:
            self.trusted.add(call.result, f"the output of {where}", divert=self.sent)
        own = call.cloud in OWN_CLOUDS and call.tool not in self._public_tools
        (self.confidential if own else self.public).add(call.result, f"the output of {where}")
        self._remember_sent(call, where)

    def _carried(self, args: Any) -> tuple[str, str] | None:
        """The first untrusted value a call carried, with its source."""
        for leaf in leaves(args):
            for atom in sorted(leaf_atoms(leaf)):
                source = self.tainted(atom)
                if source is not None:
                    return atom, source
            if isinstance(leaf, str):
                for window in shingles(leaf):
                    source = self.untrusted.windows.get(window)
                    if source is not None and window not in self.trusted.windows:
                        return "v:" + leaf[:40], source
        return None

    def _remember_sent(self, call: CallRecord, where: str) -> None:
        label = f"a value {where} sent out with no trusted origin"
        for leaf in leaves(call.args):
            for atom in leaf_atoms(leaf):
                unproven = atom.startswith(_STICKY_KINDS) and atom not in self.trusted.atoms
                if unproven or self.tainted(atom) is not None:
                    self.sent.atoms.setdefault(atom, label)


class IndexCache:
    """Recent indexes by fingerprint: every check of one step sees the same history, and
    rebuilding the pools costs more than the rest of a decision."""

    def __init__(
        self,
        size: int = 64,
        *,
        untrusted_texts: Iterable[tuple[str, str]] = (),
        public_tools: Collection[str] = (),
    ) -> None:
        self._size = size
        self._items: OrderedDict[Hashable, tuple[ProvenanceIndex, list[Any]]] = OrderedDict()
        self._lock = threading.Lock()
        self._texts = tuple(untrusted_texts)
        self._public = frozenset(public_tools)

    def get(self, run: Run) -> ProvenanceIndex:
        key, held = _key(run)
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found[0]
        # Built now (from the longest cached prefix of this history when there is one): the
        # caller may change ``run`` once the check is over.
        base = self._prefix(key)
        if base is not None:
            built = base[0].extended(run, base[1])
        else:
            built = ProvenanceIndex(run, untrusted_texts=self._texts, public_tools=self._public)
        with self._lock:
            self._items[key] = (built, held)
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return built

    def _prefix(self, key: Hashable) -> tuple[ProvenanceIndex, int] | None:
        """The cached index of the longest earlier part of the same history, and its size."""
        assert isinstance(key, tuple)
        head, calls = key[:3], key[3]
        best: tuple[ProvenanceIndex, int] | None = None
        with self._lock:
            for other, (index, _) in self._items.items():
                assert isinstance(other, tuple)
                done = other[3]
                if (
                    other[:3] == head
                    and len(done) < len(calls)
                    and (best is None or len(done) > best[1])
                    and calls[: len(done)] == done
                ):
                    best = (index, len(done))
        return best


def _key(run: Run) -> tuple[Hashable, list[Any]]:
    """The cache key of a history (by content), and objects the entry keeps alive.

    Each call's arguments and result are digested once and the digest memoised on the call
    under the ``id()`` of both: the orchestrator replaces them, never edits them in place. A
    run reloaded from the store digests its calls again (once per step), so a history that
    continues a cached one is recognised as its prefix and only the new steps are replayed.
    The entry keeps the digested objects alive, so their ids cannot be reused meanwhile.
    """
    held: list[Any] = []
    calls = []
    for step in run.steps:
        for c in step.calls:
            if c.result is None:
                continue
            held += (c.args, c.result)
            calls.append(
                (step.index, c.call_id, c.tool, c.untrusted, c.quarantined, c.cloud, _digest(c))
            )
    inputs = json.dumps(run.inputs, sort_keys=True, default=str) if run.inputs else ""
    return (run.id, run.goal, inputs, tuple(calls)), held


def _digest(call: CallRecord) -> str:
    private = call.__pydantic_private__  # the memo dict directly (see core.guardrails.budget)
    assert private is not None
    memo: dict[str, str] = private["_memo"]
    key = f"{id(call.args)}:{id(call.result)}"
    if memo.get("flow-key") != key:
        text = json.dumps([call.args, call.result], sort_keys=True, default=str)
        memo["flow"] = hashlib.sha256(text.encode()).hexdigest()
        memo["flow-key"] = key
    return memo["flow"]


def untrusted_origin(index: ProvenanceIndex, value: Any) -> tuple[str, str] | None:
    """``(the value or part of it, its untrusted source)`` when a scalar came only from
    untrusted content: a distinctive part of it, or a stretch of copied words."""
    for atom in sorted(leaf_atoms(value), key=lambda a: (-len(a), a)):
        source = index.tainted(atom)
        if source is not None:
            whole = str(value)
            return (whole if len(whole) <= 80 else atom[2:]), source
    if isinstance(value, str):
        for window in shingles(value):
            source = index.untrusted.windows.get(window)
            if source is not None and window not in index.trusted.windows:
                return value[:80], source
    return None
