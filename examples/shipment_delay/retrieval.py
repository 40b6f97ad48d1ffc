"""Contract retrieval: text out of the PDFs (pypdf), clauses ranked by BM25 (bm25s).

Each numbered clause of a contract is one passage. The contract's title is indexed with every
passage, so that a question naming the supplier finds that supplier's clause. Nothing is
downloaded: the ranking is lexical, computed in process from the files shipped with the
scenario.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from core.errors import ConfigError

_HEADING = re.compile(r"^(?P<num>\d{1,2}\.\d{1,2})\s+(?P<title>[A-Z][^.:;]{1,70})$")
_TITLE = re.compile(r"^(?P<id>[A-Z]{2}-\d{4})\s+(?P<title>.+)$")
_WORD = re.compile(r"[a-z0-9]+(?:[-.][a-z0-9]+)*")


@dataclass(frozen=True)
class Passage:
    """One clause of one contract, as extracted from its PDF."""

    contract_id: str
    contract_title: str
    clause: str
    heading: str
    text: str
    page: int
    """1-based page on which the clause heading stands."""


@dataclass(frozen=True)
class Hit:
    passage: Passage
    score: float


def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


def _stem(word: str) -> str:
    """A light English suffix strip: ``carriers`` and ``carrier`` meet, ``delayed`` and
    ``delay`` too. Ids and numbers are left alone."""
    if any(ch.isdigit() for ch in word) or len(word) <= 4:
        return word
    for suffix, keep in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)] + keep
    return word


def analyse(text: str, stopwords: frozenset[str]) -> list[str]:
    """Lower-cased word tokens without stopwords, lightly stemmed; ids like CA-220 kept whole."""
    return [_stem(w) for w in _WORD.findall(text.lower()) if w not in stopwords]


def extract_passages(path: Path) -> list[Passage]:
    """The numbered clauses of one contract PDF.

    Raises:
        ConfigError: the file is not a readable PDF or carries no contract title.
    """
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        pages = [page.extract_text() or "" for page in PdfReader(path).pages]
    except (OSError, PdfReadError) as exc:
        raise ConfigError(f"cannot read contract {path.name}: {exc}") from exc
    lines = [
        (number, line.strip())
        for number, text in enumerate(pages, start=1)
        for line in text.splitlines()
        if line.strip()
    ]
    title = _TITLE.match(lines[0][1]) if lines else None
    if title is None:
        raise ConfigError(f"contract {path.name} has no 'CT-nnnn Title' first line")
    passages: list[Passage] = []
    current: tuple[str, str, int, list[str]] | None = None
    for page, line in lines[1:]:
        heading = _HEADING.match(line)
        if heading is not None:
            if current is not None:
                passages.append(_passage(title, current))
            current = (heading["num"], heading["title"].strip(), page, [])
        elif current is not None:
            current[3].append(line)
    if current is not None:
        passages.append(_passage(title, current))
    return passages


def _passage(title: re.Match[str], current: tuple[str, str, int, list[str]]) -> Passage:
    clause, heading, page, body = current
    return Passage(
        contract_id=title["id"],
        contract_title=title["title"].strip(),
        clause=clause,
        heading=heading,
        text=" ".join(body),
        page=page,
    )


class ContractIndex:
    """BM25 over the clauses of a set of contract PDFs."""

    def __init__(self, passages: Sequence[Passage]) -> None:
        import bm25s

        if not passages:
            raise ConfigError("no contract passages to index")
        self.passages = list(passages)
        self._stopwords = _stopwords()
        corpus = [
            analyse(f"{p.contract_title} {p.contract_id} {p.heading} {p.text}", self._stopwords)
            for p in self.passages
        ]
        self._bm25 = bm25s.BM25()
        self._bm25.index(corpus, show_progress=False)
        self._lock = threading.Lock()

    @classmethod
    def from_files(cls, paths: Iterable[Path]) -> ContractIndex:
        return cls([p for path in paths for p in extract_passages(path)])

    @property
    def contract_ids(self) -> list[str]:
        return list(dict.fromkeys(p.contract_id for p in self.passages))

    def search(self, query: str, *, top_k: int = 3, contract_id: str | None = None) -> list[Hit]:
        """The ``top_k`` best clauses for ``query`` (only those with a positive score),
        optionally within one contract."""
        tokens = analyse(query, self._stopwords)
        if not tokens:
            return []
        with self._lock:  # bm25s keeps per-call scratch state
            ids, scores = self._bm25.retrieve([tokens], k=len(self.passages), show_progress=False)
        hits = [
            Hit(self.passages[int(i)], float(s)) for i, s in zip(ids[0], scores[0], strict=True)
        ]
        hits = [
            h
            for h in hits
            if h.score > 0 and (contract_id is None or h.passage.contract_id == contract_id)
        ]
        return hits[:top_k]
