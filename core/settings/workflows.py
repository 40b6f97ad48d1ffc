"""Where a deployment's workflow bundles are."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from core.settings._base import EnvGroup


class WorkflowSettings(EnvGroup):
    """The operator's workflow bundles (docs/bundles.md), loaded at cold start."""

    dir: Path | None = Field(default=None, validation_alias="PADDOCK_WORKFLOWS_DIR")
    """PADDOCK_WORKFLOWS_DIR: a folder of workflow bundles (each a sub-folder with a
    ``paddock.yaml``), or one bundle; the Pulumi stack ships them inside the package and sets
    this. Unset: no workflows (runs name their catalogs)."""
