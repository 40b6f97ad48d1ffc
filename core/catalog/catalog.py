"""A set of tools from one or more specs, with names unique across all of them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import httpx

from core.catalog import vendor
from core.catalog._naming import sanitize, slug, unique
from core.catalog.loader import is_url, load_document
from core.catalog.openapi import ImportResult, import_document
from core.domain import SpecRef, Tool
from core.errors import NotFoundError


class Catalog:
    """Tools by name, from any number of specs.

    Names stay stable as specs are added: when a new spec brings a name the catalog already
    holds, the newcomer is renamed ``<title slug>_<name>`` (and a warning says so); tools
    already in the catalog keep their names.
    """

    def __init__(
        self,
        tools: Iterable[Tool] = (),
        *,
        specs: Iterable[SpecRef] = (),
        warnings: Iterable[str] = (),
    ) -> None:
        self._tools: dict[str, Tool] = {}
        self._specs: list[SpecRef] = list(specs)
        self._warnings: list[str] = list(warnings)
        self._add_tools(list(tools), title=None)

    @classmethod
    def from_sources(
        cls,
        sources: Sequence[str],
        *,
        base_urls: Mapping[str, str] | None = None,
        client: httpx.Client | None = None,
    ) -> Catalog:
        """Import every spec in ``sources`` (files or URLs, JSON or YAML).

        ``base_urls`` overrides where a spec's API lives; it is keyed by the source as given,
        by the spec's title, or by the title's slug.

        Raises:
            SpecError: a source cannot be read or is not a Swagger / OpenAPI document.
        """
        catalog = cls()
        for source in sources:
            catalog.add_spec(source, base_urls=base_urls, client=client)
        return catalog

    def add_spec(
        self,
        source: str,
        *,
        base_url: str | None = None,
        base_urls: Mapping[str, str] | None = None,
        client: httpx.Client | None = None,
    ) -> list[Tool]:
        """Import the spec at ``source``; returns the tools added, as named in the catalog.

        ``mcp+stdio:COMMAND`` and ``mcp+http(s)://URL`` sources import an MCP server's tools.
        A spec read from an ``http(s)`` URL is treated as a vendor's: its ``x-paddock-*``
        labels only tighten its tools (``core.catalog.vendor``) and its descriptions are
        marked as third-party text.
        """
        if source.startswith("mcp+"):
            from core.catalog.mcp import import_mcp

            return self.add_result(import_mcp(source))
        document, raw = load_document(source, client=client)
        if base_url is None and base_urls:
            base_url = base_url_for(base_urls, source, document)
        if not is_url(source):
            return self.add_document(document, source=source, raw=raw, base_url=base_url)
        # A spec fetched from a URL is its publisher's word: its labels may only tighten.
        stripped, labels = vendor.strip_labels(document)
        result = import_document(stripped, source=source, raw=raw, base_url=base_url)
        tools = [vendor.as_vendors(t, labels) for t in result.tools]
        return self.add_result(
            ImportResult(spec=result.spec, tools=tools, warnings=result.warnings)
        )

    def add_document(
        self,
        document: Mapping[str, Any],
        *,
        source: str = "<document>",
        raw: bytes | None = None,
        base_url: str | None = None,
    ) -> list[Tool]:
        """Import an already parsed spec; returns the tools added."""
        return self.add_result(import_document(document, source=source, raw=raw, base_url=base_url))

    def add_result(self, result: ImportResult) -> list[Tool]:
        """Add what ``import_spec`` produced; returns the tools added."""
        if (
            any(s.sha256 == result.spec.sha256 for s in self._specs)
            and result.tools
            and all(self._tools.get(t.name) == t for t in result.tools)
        ):
            self._warnings.append(f"spec {result.spec.source!r} is already in the catalog; skipped")
            return []
        self._specs.append(result.spec)
        self._warnings.extend(f"{result.spec.title}: {w}" for w in result.warnings)
        return self._add_tools(result.tools, title=result.spec.title)

    def _add_tools(self, tools: list[Tool], *, title: str | None) -> list[Tool]:
        added: list[Tool] = []
        for tool in tools:
            name = tool.name
            if name in self._tools:
                prefix = slug(title or (tool.spec.title if tool.spec else "spec"))
                name = unique(sanitize(f"{prefix}_{tool.name}"), self._tools)
                self._warnings.append(
                    f"{tool.name!r} from {title or 'a later spec'!r} is "
                    f"also in {self._spec_title(tool.name)!r}; "
                    f"renamed {name!r}"
                )
                tool = tool.model_copy(update={"name": name})
            self._tools[name] = tool
            added.append(tool)
            self._warnings.extend(f"{name}: {w}" for w in tool.warnings)
        return added

    def _spec_title(self, name: str) -> str:
        spec = self._tools[name].spec
        return spec.title if spec else "the catalog"

    def get(self, name: str) -> Tool:
        """The tool called ``name``; ``NotFoundError`` if there is none."""
        tool = self._tools.get(name)
        if tool is None:
            raise NotFoundError(f"no tool named {name!r} in the catalog")
        return tool

    def find(self, name: str) -> Tool | None:
        """The tool called ``name``, or ``None``."""
        return self._tools.get(name)

    @property
    def tools(self) -> list[Tool]:
        """Every tool, in the order they were added."""
        return list(self._tools.values())

    @property
    def names(self) -> list[str]:
        return list(self._tools)

    @property
    def warnings(self) -> list[str]:
        """Everything the importer could not carry over faithfully, one line each."""
        return list(self._warnings)

    @property
    def specs(self) -> list[SpecRef]:
        return list(self._specs)

    def subset(self, names: Iterable[str]) -> Catalog:
        """A catalog of just these tools (``NotFoundError`` for a name not here)."""
        tools = [self.get(name) for name in names]
        used = {t.spec for t in tools if t.spec is not None}
        return Catalog(tools, specs=[s for s in self._specs if s in used])

    def __len__(self) -> int:
        return len(self._tools)

    def __iter__(self) -> Iterator[Tool]:
        return iter(list(self._tools.values()))

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __repr__(self) -> str:
        return f"Catalog({len(self._tools)} tools from {len(self._specs)} specs)"


def base_url_for(
    base_urls: Mapping[str, str], source: str, document: Mapping[str, Any]
) -> str | None:
    """The override ``base_urls`` holds for this spec: by source, title or the title's slug."""
    info = document.get("info")
    title = str(info.get("title", "")) if isinstance(info, Mapping) else ""
    for key in (source, title, slug(title) if title else None):
        if key and key in base_urls:
            return base_urls[key]
    return None
