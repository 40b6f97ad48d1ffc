"""The code each cloud runs: the package scripts/package built plus the stack's workflow bundles,
and the content-hashed names it is uploaded under.

Plain Python (no Pulumi): the program composes a package per cloud, hashes it, and uploads it
under a key derived from that hash, so an unchanged package keeps its key (nothing to upload,
nothing to redeploy) and a changed one gets a new key (upload, then the function points at it).
Composition is reproducible: the base entries keep their bytes and times, bundle files get a
fixed time and are added in sorted order, so the same inputs always give the same bytes.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from paddock_infra.config import InfraConfigError

WORKFLOWS_FOLDER = "workflows"
"""Bundles sit at ``workflows/<folder>/`` inside both packages (the folder keeps its name: the
runtime takes the folder named after a workflow as its current version, docs/bundles.md)."""
LAMBDA_ROOT = "/var/task"
"""Where Lambda unpacks the code (``LAMBDA_TASK_ROOT``)."""
FUNCTIONS_ROOT = "/home/site/wwwroot"
"""Where Azure Functions on Linux mounts the package (Flex Consumption and Consumption)."""
BUNDLE_MANIFEST = "paddock.yaml"
_EPOCH = (2020, 1, 1, 0, 0, 0)
_FOLDER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_SKIP = {"__pycache__", ".git", ".DS_Store"}


class PackageError(InfraConfigError):
    """A package or workflow folder is missing or unusable; the message says which."""


@dataclass(frozen=True)
class Bundle:
    """One workflow folder to ship: the workflow it declares and where it is on disk."""

    name: str
    """The workflow's name: ``paddock.yaml``'s ``name:``, else the folder's."""
    path: Path

    @property
    def folder(self) -> str:
        """Its folder in the package, ``workflows/<folder>/``: the folder's own name."""
        return self.path.name


@dataclass(frozen=True)
class Package:
    """A file ready to upload, with the digest that names it."""

    path: Path
    sha256: str
    """Hex digest of the file's bytes."""

    @property
    def short(self) -> str:
        """The first 16 hex digits: enough to tell two packages apart in a key."""
        return self.sha256[:16]

    def key(self, stem: str) -> str:
        """``<stem>-<digest>.zip``: a new name exactly when the bytes change."""
        return f"{stem}-{self.short}.zip"


def workflows_dir(root: str) -> str:
    """The runtime path of the bundles folder for a package unpacked at ``root``."""
    return f"{root}/{WORKFLOWS_FOLDER}"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_bundles(paths: tuple[str, ...], base: Path) -> tuple[Bundle, ...]:
    """Resolve the configured folders (relative to ``base``, the project directory) and read
    the workflow each declares (``paddock.yaml``'s ``name:``, else the folder's name).

    Two folders may declare the same workflow (a current and a kept version, e.g.
    ``procurement/`` and ``procurement.v1/``) but not share a folder name.

    Raises:
        PackageError: a folder is missing or has no ``paddock.yaml`` (the runtime loads only
            folders that have one), its name is not a plain file name, or two configured
            folders have the same name.
    """
    bundles: list[Bundle] = []
    for entry in paths:
        folder = (base / entry).resolve()
        if not folder.is_dir():
            raise PackageError(f"paddock:workflows: {entry!r} is not a folder (from {base})")
        if not (folder / BUNDLE_MANIFEST).is_file():
            raise PackageError(
                f"paddock:workflows: {entry!r} is not a workflow bundle (no {BUNDLE_MANIFEST})"
            )
        if not _FOLDER.match(folder.name):
            raise PackageError(
                f"paddock:workflows: {entry!r}: a bundle folder's name must be letters, "
                "digits, '.', '-' and '_'"
            )
        if any(b.folder == folder.name for b in bundles):
            raise PackageError(f"paddock:workflows: two folders are named {folder.name!r}")
        bundles.append(Bundle(name=_bundle_name(folder), path=folder))
    return tuple(bundles)


def workflow_names(bundles: tuple[Bundle, ...]) -> list[str]:
    """The workflows shipped, each once, in configuration order (the stack output)."""
    return list(dict.fromkeys(b.name for b in bundles))


def _bundle_name(folder: Path) -> str:
    manifest = folder / BUNDLE_MANIFEST
    try:
        data = yaml.safe_load(manifest.read_text())
    except yaml.YAMLError as exc:
        raise PackageError(f"{manifest}: not YAML ({exc.__class__.__name__})") from None
    if isinstance(data, dict) and isinstance(data.get("name"), str) and data["name"]:
        return str(data["name"])
    return folder.name


def compose(base: Path, bundles: tuple[Bundle, ...], out: Path) -> Package:
    """``base`` with every bundle under ``workflows/<name>/``, written to ``out``.

    Without bundles the base package is used as it is (no copy).

    Raises:
        PackageError: ``base`` is missing or not a zip, or it already holds ``workflows/``.
    """
    if not base.is_file():
        raise PackageError(f"package {str(base)!r} not found: run scripts/package first")
    if not bundles:
        return Package(path=base, sha256=file_sha256(base))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    try:
        with zipfile.ZipFile(base) as src, zipfile.ZipFile(tmp, "w") as dst:
            for info in src.infolist():
                if info.filename.startswith(f"{WORKFLOWS_FOLDER}/"):
                    raise PackageError(f"{base} already has a {WORKFLOWS_FOLDER}/ folder")
                dst.writestr(info, src.read(info))
            for bundle in bundles:
                _add_bundle(dst, bundle)
    except zipfile.BadZipFile:
        tmp.unlink(missing_ok=True)
        raise PackageError(f"package {str(base)!r} is not a zip file") from None
    shutil.move(tmp, out)
    return Package(path=out, sha256=file_sha256(out))


def _add_bundle(archive: zipfile.ZipFile, bundle: Bundle) -> None:
    files = sorted(
        p
        for p in bundle.path.rglob("*")
        if p.is_file() and not _SKIP.intersection(p.relative_to(bundle.path).parts)
    )
    for path in files:
        rel = path.relative_to(bundle.path).as_posix()
        info = zipfile.ZipInfo(f"{WORKFLOWS_FOLDER}/{bundle.folder}/{rel}", date_time=_EPOCH)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        archive.writestr(info, path.read_bytes())
