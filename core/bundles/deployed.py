"""The bundles a deployment ships: a folder of bundle folders, loaded once at cold start."""

from __future__ import annotations

from pathlib import Path

from core.bundles.loader import load_bundle
from core.bundles.manifest import MANIFEST
from core.errors import ConfigError
from core.workflows import Workflow, WorkflowSet


def load_workflows(folder: str | Path | None) -> WorkflowSet:
    """Every bundle under ``folder`` (or ``folder`` itself when it is one).

    Several folders may declare the same workflow name: the one whose folder is named after
    the workflow is the current version, the others are kept versions that runs started with
    may still resume on (docs/bundles.md, versions).

    Raises:
        BundleError: a bundle is invalid (the deployment must not start with it).
        ConfigError: the folder does not exist, or a name's current version is ambiguous.
    """
    if folder is None:
        return WorkflowSet()
    root = Path(folder)
    if (root / MANIFEST).is_file():
        return WorkflowSet([load_bundle(root)])
    if not root.is_dir():
        raise ConfigError(f"PADDOCK_WORKFLOWS_DIR {root} is not a folder")
    loaded = [
        (path.name, load_bundle(path))
        for path in sorted(root.iterdir())
        if (path / MANIFEST).is_file()
    ]
    by_name: dict[str, list[tuple[str, Workflow]]] = {}
    for folder_name, workflow in loaded:
        by_name.setdefault(workflow.name, []).append((folder_name, workflow))
    current: list[Workflow] = []
    kept: list[Workflow] = []
    for name, found in by_name.items():
        if len(found) == 1:
            current.append(found[0][1])
            continue
        named = [w for folder_name, w in found if folder_name == name]
        if not named:
            folders = ", ".join(f for f, _ in found)
            raise ConfigError(
                f"{root}: folders {folders} all declare workflow {name!r}; name the current "
                f"version's folder {name!r} (the others are kept for runs that started on them)"
            )
        current.append(named[0])
        kept.extend(w for folder_name, w in found if folder_name != name)
    return WorkflowSet(current, kept=kept)
