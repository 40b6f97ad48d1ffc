"""Contract retrieval quality and speed: BM25 (bm25s) against a word-overlap baseline.

Both rank the same clause passages extracted from the scenario's contract PDFs with pypdf, on
the labelled questions in tests/data/shipment_delay/questions.yaml; the baseline counts the
question's (stopword-free, stemmed) words that occur in a passage. Prints a table.

    .venv/bin/python bench/retrieval.py
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from examples.shipment_delay.contract_pdfs import contract_paths
from examples.shipment_delay.retrieval import (
    ContractIndex,
    Passage,
    analyse,
    extract_passages,
)

QUESTIONS = ROOT / "tests" / "data" / "shipment_delay" / "questions.yaml"
Ranker = Callable[[str], list[Passage]]


def overlap_ranker(passages: list[Passage], stopwords: frozenset[str]) -> Ranker:
    bags = [
        set(analyse(f"{p.contract_title} {p.contract_id} {p.heading} {p.text}", stopwords))
        for p in passages
    ]

    def rank(question: str) -> list[Passage]:
        words = set(analyse(question, stopwords))
        scored = sorted(range(len(passages)), key=lambda i: -len(words & bags[i]))
        return [passages[i] for i in scored]

    return rank


def evaluate(rank: Ranker, questions: list[dict[str, str]]) -> tuple[int, int, float, float]:
    """(right first, right in top 3, MRR, median ms per query)."""
    first = top3 = 0
    reciprocal: list[float] = []
    times: list[float] = []
    for q in questions:
        start = time.perf_counter()
        ranked = rank(q["question"])
        times.append((time.perf_counter() - start) * 1000)
        ids = [(p.contract_id, p.clause) for p in ranked]
        want = (q["contract_id"], q["clause"])
        position = ids.index(want) + 1 if want in ids else None
        first += position == 1
        top3 += position is not None and position <= 3
        reciprocal.append(1 / position if position else 0.0)
    return first, top3, sum(reciprocal) / len(reciprocal), statistics.median(times)


def main() -> int:
    questions = yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))
    start = time.perf_counter()
    passages = [p for path in contract_paths() for p in extract_passages(path)]
    extracted = (time.perf_counter() - start) * 1000
    start = time.perf_counter()
    index = ContractIndex(passages)
    built = (time.perf_counter() - start) * 1000
    from bm25s.stopwords import STOPWORDS_EN

    rankers: dict[str, Ranker] = {
        "bm25 (bm25s)": lambda q: [h.passage for h in index.search(q, top_k=len(passages))],
        "word overlap (baseline)": overlap_ranker(passages, frozenset(STOPWORDS_EN)),
    }
    n = len(questions)
    print(
        f"{len(contract_paths())} PDFs, {len(passages)} clauses: text extraction "
        f"{extracted:.1f} ms, BM25 index {built:.1f} ms; {n} labelled questions"
    )
    print(f"{'ranker':<26}{'right first':>12}{'in top 3':>10}{'MRR':>7}{'ms/query':>10}")
    results = {}
    for name, rank in rankers.items():
        first, top3, mrr, ms = evaluate(rank, questions)
        results[name] = first
        print(f"{name:<26}{f'{first}/{n}':>12}{f'{top3}/{n}':>10}{mrr:>7.2f}{ms:>10.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
