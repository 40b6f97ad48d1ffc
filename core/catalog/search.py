"""Tool search: BM25 (the ``bm25s`` package) over what each tool is called and does.

A large catalog cannot go into every prompt. ``ToolIndex`` ranks tools for a query so the
planner is shown the few that matter. Ranking is bm25s's; this module only decides what text
stands for a tool (name split into words, method, path segments, summary, parameter names).
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from core.domain import Binding, HttpBinding, Tool
from core.errors import ConfigError

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|[_\-/{}.]+")
_TAGS = re.compile(r"<[^>]+>")
_DESCRIPTION_CHARS = 400
_METHOD_WORDS = {
    "get": "get retrieve list read show",
    "post": "create update post send",
    "put": "replace update",
    "patch": "update modify",
    "delete": "delete remove cancel",
}


def tool_text(tool: Tool) -> str:
    """The words a tool is found by."""
    words = [_CAMEL.sub(" ", tool.name), *_binding_words(tool.binding)]
    body = tool.args_schema.get("properties", {}).get("body")
    if isinstance(body, dict):
        words.extend(_CAMEL.sub(" ", str(k)) for k in (body.get("properties") or {}))
    text = html.unescape(_TAGS.sub(" ", tool.description))
    words.append(text[:_DESCRIPTION_CHARS])
    return " ".join(words)


def _binding_words(binding: Binding) -> list[str]:
    """An HTTP tool is also found by its method's verbs, its path and its parameter names;
    any other by the name its source gives it."""
    if not isinstance(binding, HttpBinding):
        return [_CAMEL.sub(" ", binding.operation)]
    words = [
        _METHOD_WORDS.get(binding.method.lower(), binding.method),
        _CAMEL.sub(" ", binding.path),
    ]
    words.extend(_CAMEL.sub(" ", p.name) for p in binding.params if p.name != "body")
    return words


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    try:
        import Stemmer
    except ImportError:  # stemming helps recall but is optional
        return None
    return Stemmer.Stemmer("english")


class ToolIndex:
    """A BM25 index over ``tools``; ``search`` returns the best ``k`` for a query.

    Raises:
        ConfigError: the ``bm25s`` package is not installed (``pip install paddock[search]``).
    """

    def __init__(self, tools: Sequence[Tool]) -> None:
        try:
            import bm25s
        except ImportError as exc:
            raise ConfigError(
                "tool search needs the bm25s package: pip install 'paddock[search]'"
            ) from exc
        self._bm25s = bm25s
        self.tools = list(tools)
        self._retriever = bm25s.BM25()
        if self.tools:
            corpus = self._tokens([tool_text(t) for t in self.tools])
            self._retriever.index(corpus, show_progress=False)

    def _tokens(self, texts: list[str]) -> Any:
        return self._bm25s.tokenize(texts, stopwords="en", stemmer=_stemmer(), show_progress=False)

    def search(self, query: str, k: int = 5) -> list[Tool]:
        """Up to ``k`` tools, best first; tools sharing no word with the query are left out."""
        return [tool for tool, _ in self.scored(query, k)]

    def scored(self, query: str, k: int = 5) -> list[tuple[Tool, float]]:
        """Up to ``k`` (tool, BM25 score) pairs with a positive score, best first.

        A tool named exactly in the query comes first (score ``inf``): that is how an agent
        asks for a tool by name.
        """
        k = min(k, len(self.tools))
        if k <= 0 or not query.strip():
            return []
        words = set(re.split(r"[\s,;]+", query.strip()))
        named = [(t, float("inf")) for t in self.tools if t.name in words][:k]
        tokens = self._tokens([query])
        if not tokens.ids or not tokens.ids[0]:
            return named
        docs, scores = self._retriever.retrieve(tokens, k=k, show_progress=False, n_threads=1)
        seen = {t.name for t, _ in named}
        ranked = [
            (self.tools[int(i)], float(s))
            for i, s in zip(docs[0], scores[0], strict=True)
            if s > 0 and self.tools[int(i)].name not in seen
        ]
        return [*named, *ranked][:k]
