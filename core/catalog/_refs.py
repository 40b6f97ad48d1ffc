"""``$ref`` targets: the root spec plus the files it points to, and which refs recurse."""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from core.catalog.loader import is_url, parse_bytes, read_source
from core.errors import SpecError

RefKey = tuple[str, str]
"""(document URI, JSON pointer) of a ``$ref`` target, e.g. ``("spec.yaml", "/a/b")``."""

FileLoader = Callable[[str], Any]


class RefError(Exception):
    """A ``$ref`` that cannot be followed (reported as a warning, never raised to callers)."""


def _load_file(uri: str) -> Any:
    return parse_bytes(read_source(uri), uri)


def join_uri(base: str, relative: str) -> str:
    if is_url(base):
        return urljoin(base, relative)
    if is_url(relative) or Path(relative).is_absolute():
        return relative
    return posixpath.normpath(posixpath.join(posixpath.dirname(base), relative))


def _origin(uri: str) -> str:
    if not is_url(uri):
        return "(local file)"
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}"


def walk_pointer(document: Any, pointer: str) -> Any:
    node = document
    if not pointer:
        return node
    for raw in pointer.lstrip("/").split("/"):
        token = unquote(raw).replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, dict) and token.isdigit() and int(token) in node:
            node = node[int(token)]  # YAML status codes load as integers
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            raise RefError(f"'{token}' not found")
    return node


class Documents:
    """The root document and every document reached through a relative ``$ref``."""

    def __init__(self, root: dict[str, Any], source: str, loader: FileLoader | None = None) -> None:
        self.root_uri = source
        self._docs: dict[str, Any] = {source: root}
        self._loader = loader or _load_file
        self._graph = _RecursionFinder(self)

    def resolve(self, ref: str, base: str) -> tuple[RefKey, Any]:
        """The key and target of ``ref`` read in the document ``base``."""
        file_part, _, fragment = ref.partition("#")
        uri = join_uri(base, file_part) if file_part else base
        if fragment and not fragment.startswith("/"):
            raise RefError(f"$ref '{ref}': anchors are not supported")
        document = self._document(uri, ref)
        try:
            return (uri, fragment), walk_pointer(document, fragment)
        except RefError as exc:
            raise RefError(f"$ref '{ref}' does not resolve: {exc}") from None

    def _document(self, uri: str, ref: str) -> Any:
        if uri in self._docs:
            return self._docs[uri]
        if self.root_uri.startswith("<"):
            raise RefError(f"$ref '{ref}': no base location to read '{uri}' from")
        if is_url(self.root_uri) and _origin(uri) != _origin(self.root_uri):
            # A spec fetched from a server may only pull in files from that same server: an
            # absolute $ref must not make Paddock read local files or reach other hosts.
            raise RefError(
                f"$ref '{ref}': '{uri}' is outside the spec's origin "
                f"{_origin(self.root_uri)}; not followed"
            )
        try:
            self._docs[uri] = self._loader(uri)
        except SpecError as exc:
            raise RefError(f"$ref '{ref}': {exc.message}") from None
        return self._docs[uri]

    def follow(self, node: Any, base: str, limit: int = 50) -> tuple[Any, str]:
        """``node`` with plain ``$ref`` chains followed (for parameters, bodies, responses)."""
        for _ in range(limit):
            if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
                return node, base
            (base, _pointer), node = self.resolve(node["$ref"], base)
        raise RefError("$ref chain too long or circular")

    def is_recursive(self, key: RefKey) -> bool:
        """Whether ``key`` can reach itself through ``$ref``s (so it cannot be inlined)."""
        return self._graph.is_recursive(key)


def refs_in(node: Any) -> Iterator[str]:
    """Every ``$ref`` string anywhere below ``node``."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str):
                yield ref
            stack.extend(v for v in item.values() if isinstance(v, dict | list))
        elif isinstance(item, list):
            stack.extend(v for v in item if isinstance(v, dict | list))


class _RecursionFinder:
    """Tarjan's strongly connected components over the ``$ref`` graph, computed lazily.

    A ref is recursive when it sits on a cycle: in a component of two or more refs, or
    referring to itself. Edges are every ``$ref`` below a target, so the answer errs on the
    side of "recursive"; that only costs a ``$defs`` entry, never a loop.
    """

    def __init__(self, docs: Documents) -> None:
        self._docs = docs
        self._recursive: dict[RefKey, bool] = {}
        self._edges: dict[RefKey, list[RefKey]] = {}

    def _successors(self, key: RefKey) -> list[RefKey]:
        found = self._edges.get(key)
        if found is None:
            found = []
            try:
                target = self._docs.resolve("#" + key[1], key[0])[1]
            except RefError:
                target = None
            for ref in refs_in(target):
                try:
                    found.append(self._docs.resolve(ref, key[0])[0])
                except RefError:
                    continue
            self._edges[key] = found
        return found

    def is_recursive(self, key: RefKey) -> bool:
        if key not in self._recursive:
            self._tarjan(key)
        return self._recursive[key]

    def _tarjan(self, start: RefKey) -> None:
        index: dict[RefKey, int] = {}
        low: dict[RefKey, int] = {}
        on_stack: set[RefKey] = set()
        stack: list[RefKey] = []
        work: list[tuple[RefKey, int]] = [(start, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            successors = self._successors(node)
            if i < len(successors):
                work.append((node, i + 1))
                nxt = successors[i]
                if nxt in self._recursive:
                    continue  # finished in an earlier search: its component is closed
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if work and work[-1][0] != node:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                self._close(node, stack, on_stack)

    def _close(self, root: RefKey, stack: list[RefKey], on_stack: set[RefKey]) -> None:
        component: list[RefKey] = []
        while True:
            member = stack.pop()
            on_stack.discard(member)
            component.append(member)
            if member == root:
                break
        cyclic = len(component) > 1 or root in self._successors(root)
        for member in component:
            self._recursive[member] = cyclic
