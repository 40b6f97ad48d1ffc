"""Provenance of a final answer: what it names that only untrusted text gave.

An answer that recommends a supplier, an account or a link that only an inbox message named
is marked, so whoever consumes the outcome (the console, the JSON summary, an ERP reading the
events) does not take an injected recommendation as the agent's own.
"""

from __future__ import annotations

from core.domain import Run
from core.guardrails.canonical import atoms, shingles
from core.guardrails.provenance import ProvenanceIndex

MAX_MARKS = 10


def untrusted_in_answer(run: Run, answer: str) -> list[str]:
    """One line per value (or copied stretch) of ``answer`` named only by untrusted text."""
    index = ProvenanceIndex(run)
    marks: list[str] = []
    for atom in sorted(atoms(answer), key=lambda a: (-len(a), a)):
        source = index.tainted(atom)
        if source is not None:
            marks.append(f"{atom[2:]!r} comes only from {source}")
    for window in shingles(answer):
        source = index.untrusted.windows.get(window)
        if source is not None and window not in index.trusted.windows:
            marks.append(f"the answer repeats text from {source}")
            break
    return marks[:MAX_MARKS]
