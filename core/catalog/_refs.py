"""``$ref`` targets: the root spec plus the files it points to, and which refs recurse.

The documents live in a ``referencing`` registry whose retrieve function reads the files and
URLs a ``$ref`` names through Paddock's own loader (size-bounded, gzip, JSON or YAML). Local
paths become ``file:`` URIs so that relative refs resolve the way RFC 3986 says. JSON pointers
are walked here rather than by ``referencing``: YAML loads status codes (``200:``) as integer
keys, which a pointer names as text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import unquote, urldefrag, urljoin, urlsplit
from urllib.request import url2pathname

from referencing import Registry, Resource
from referencing.exceptions import Unretrievable

from core.catalog.limits import current_limits
from core.catalog.loader import is_url, parse_bytes, read_source
from core.errors import SpecError

RefKey = tuple[str, str]
"""(document URI, JSON pointer) of a ``$ref`` target, e.g. ``("file:///s/a.yaml", "/a/b")``."""

FileLoader = Callable[[str], Any]
"""Reads and parses one document, given a file path or an http(s) URL."""

_UNLOCATED = "urn:paddock:unlocated-document"
_MAX_CHAIN = 50


class RefError(Exception):
    """A ``$ref`` that cannot be followed, when the operator opted out of refusing them
    (``PADDOCK_CATALOG_UNRESOLVED_REFS=warn``): reported as a warning, never raised to
    callers."""


def unresolvable(ref: str, reason: str) -> NoReturn:
    """The one place a ``$ref`` that cannot be followed is handled.

    By default a ``SpecError`` naming the ref: the spec does not import (a schema that
    silently accepts anything is no check at all). With ``PADDOCK_CATALOG_UNRESOLVED_REFS=warn``
    a ``RefError``, which the importer reports as a warning: the schema there accepts any
    value, and a parameter, body, response or path item is skipped.
    """
    if current_limits().strict_refs:
        raise SpecError(
            f"$ref '{ref}' cannot be resolved: {reason} "
            "(PADDOCK_CATALOG_UNRESOLVED_REFS=warn imports it as 'any value')"
        )
    raise RefError(f"$ref '{ref}': {reason}")


class _Refused(Exception):
    """Why the retrieve function would not or could not read a document."""


def _load_file(location: str) -> Any:
    return parse_bytes(read_source(location), location)


def _document_uri(source: str) -> str:
    """The URI refs in ``source`` resolve against: the URL, a ``file:`` URI for a path, or a
    URN for a document that was not read from anywhere (``<document>``)."""
    if is_url(source):
        return source
    if source.startswith("<"):
        return _UNLOCATED
    return Path(source).absolute().as_uri()


def _location(uri: str) -> str:
    """What the loader reads for ``uri``: the URL itself, or the path of a ``file:`` URI."""
    if is_url(uri):
        return uri
    parts = urlsplit(uri)
    if parts.scheme == "file" and parts.netloc in ("", "localhost"):
        return url2pathname(parts.path)
    raise _Refused(f"cannot read '{uri}': only files and http(s) URLs are followed")


def _origin(uri: str) -> str:
    if not is_url(uri):
        return "(local file)"
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}"


def walk_pointer(document: Any, pointer: str) -> Any:
    """The node at a JSON pointer (percent-encoded, as in a URI fragment)."""
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
            raise _Refused(f"'{token}' not found")
    return node


class Documents:
    """The root document and every document reached through a ``$ref``."""

    def __init__(self, root: dict[str, Any], source: str, loader: FileLoader | None = None) -> None:
        self.source = source
        self.root_uri = _document_uri(source)
        self._loader = loader or _load_file
        # ``retrieve`` is an attrs alias that type checkers cannot see (jsonschema ignores it too).
        registry: Registry[Any] = Registry(retrieve=self._retrieve)  # type: ignore[call-arg]
        self._registry = registry.with_resource(self.root_uri, Resource.opaque(root))
        # Converting a spec resolves the same refs many times over: each answer (or the reason
        # there is none) is kept, which also means a missing file is tried only once.
        self._resolved: dict[tuple[str, str], tuple[RefKey, Any] | str] = {}
        self._graph = _RecursionFinder(self)

    def resolve(self, ref: str, base: str) -> tuple[RefKey, Any]:
        """The key and target of ``ref`` read in the document ``base`` (a URI)."""
        found = self._resolved.get((base, ref))
        if found is None:
            found = self._resolved[(base, ref)] = self._lookup(ref, base)
        if isinstance(found, str):
            unresolvable(ref, found)
        return found

    def _lookup(self, ref: str, base: str) -> tuple[RefKey, Any] | str:
        # A fragment-only ref stays in its document, whatever kind of URI names that.
        uri, fragment = (base, ref[1:]) if ref.startswith("#") else urldefrag(urljoin(base, ref))
        if fragment and not fragment.startswith("/"):
            return "anchors are not supported"
        try:
            retrieved = self._registry.get_or_retrieve(uri)
            self._registry = retrieved.registry
            return (uri, fragment), walk_pointer(retrieved.value.contents, fragment)
        except _Refused as exc:
            return str(exc)
        except Unretrievable as exc:
            return str(exc.__cause__ or exc)

    def _retrieve(self, uri: str) -> Resource[Any]:
        """``referencing``'s retrieve function: read a document the root spec may reach."""
        if self.root_uri == _UNLOCATED:
            raise _Refused(f"no base location to read '{uri}' from")
        if is_url(self.root_uri) and _origin(uri) != _origin(self.root_uri):
            # A spec fetched from a server may only pull in files from that same server: an
            # absolute $ref must not make Paddock read local files or reach other hosts.
            raise _Refused(
                f"'{uri}' is outside the spec's origin {_origin(self.root_uri)}; not followed"
            )
        try:
            return Resource.opaque(self._loader(_location(uri)))
        except SpecError as exc:
            raise _Refused(exc.message) from None

    def follow(self, node: Any, base: str) -> tuple[Any, str]:
        """``node`` with plain ``$ref`` chains followed (for parameters, bodies, responses)."""
        for _ in range(_MAX_CHAIN):
            if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
                return node, base
            (base, _pointer), node = self.resolve(node["$ref"], base)
        unresolvable(node["$ref"], "chain too long or circular")

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
