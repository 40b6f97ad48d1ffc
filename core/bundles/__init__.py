"""Workflow bundles: an operator's folder of specs, overlays, Cedar rules and agent profiles
(``paddock.yaml`` says how they make one workflow); see docs/bundles.md."""

from __future__ import annotations

from core.bundles.catalog import WorkflowCatalogs, ask_tools, workflow_catalog
from core.bundles.describe import describe
from core.bundles.loader import bundle_hash, check_bundle, load_bundle
from core.bundles.problems import BundleError, Problem

__all__ = [
    "BundleError",
    "Problem",
    "WorkflowCatalogs",
    "ask_tools",
    "bundle_hash",
    "check_bundle",
    "describe",
    "load_bundle",
    "workflow_catalog",
]
