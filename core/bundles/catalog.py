"""A workflow's catalog: its overlaid documents imported, vendor labels applied tighten-only."""

from __future__ import annotations

import threading
from collections.abc import Mapping

from core.catalog import Catalog
from core.catalog.catalog import base_url_for
from core.catalog.openapi import ImportResult, import_document
from core.catalog.vendor import as_vendors
from core.domain import Tool
from core.workflows import SpecDocument, Workflow


def workflow_catalog(workflow: Workflow, base_urls: Mapping[str, str] | None = None) -> Catalog:
    """The tools of ``workflow``; ``base_urls`` (by source, spec title or its slug) override
    where its services answer.

    Raises:
        SpecError: a source that is not a document (an MCP server) cannot be reached.
    """
    urls = dict(workflow.base_urls) | dict(base_urls or {})
    catalog = Catalog()
    for spec in workflow.documents:
        catalog.add_result(_imported(spec, urls))
    for source in workflow.specs:
        catalog.add_spec(source, base_urls=urls)
    return catalog


def _imported(spec: SpecDocument, base_urls: Mapping[str, str]) -> ImportResult:
    result = import_document(
        spec.document,
        source=spec.source,
        base_url=base_url_for(base_urls, spec.source, spec.document),
    )
    if not spec.vendor:
        return result
    labels = {k: dict(v) for k, v in spec.vendor_labels.items()}
    tools = [as_vendors(tool, labels) for tool in result.tools]
    return ImportResult(spec=result.spec, tools=tools, warnings=result.warnings)


def ask_tools(workflow: Workflow) -> list[Tool]:
    """The delegation tools of a mesh workflow, so its Cedar rules can govern delegations."""
    if workflow.agents_dir is None:
        return []
    from core.mesh import load_mesh
    from core.mesh.delegation import ask_tool

    return [ask_tool(p) for p in load_mesh(workflow.agents_dir).profiles.values()]


class WorkflowCatalogs:
    """Catalogs of workflow runs, by workflow version and base URLs, built once per process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str, int, tuple[tuple[str, str], ...]], Catalog] = {}

    def get(self, workflow: Workflow, base_urls: Mapping[str, str]) -> Catalog:
        key = (workflow.name, workflow.version, id(workflow), tuple(sorted(base_urls.items())))
        with self._lock:
            found = self._cache.get(key)
            if found is None:
                found = self._cache[key] = workflow_catalog(workflow, base_urls)
            return found
