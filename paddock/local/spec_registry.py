"""The versioned catalog: imported specs stored with their version, hash and import time.

An MCP source (``mcp+...``) is stored as its server's tool listing, refreshed and diffed the
same way (a tool relabelled with a looser side effect is a breaking change).

``SpecRegistry`` keeps a copy of every version of every spec it has seen under one directory
(``index.json`` plus one file per content hash). ``refresh`` re-reads each spec from its source,
diffs it against the tools in use, applies changes that are not breaking and holds the
operations with breaking changes on their previous definition until someone accepts them.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

import httpx
from pydantic import BaseModel, Field

from core.catalog.catalog import Catalog
from core.catalog.loader import detect_format, load_document, parse_bytes
from core.catalog.openapi import ImportResult, import_document
from core.domain import Tool
from core.drift.changes import Change, Level
from core.drift.spec_diff import diff_tools, op_key
from core.drift.specs import sunsets
from core.errors import ConfigError, NotFoundError, PaddockError

RefreshStatus = Literal["unchanged", "applied", "held", "accepted", "error"]


class SpecVersion(BaseModel):
    """One stored version of a spec."""

    title: str
    version: str
    sha256: str
    format: str
    imported_at: datetime


class SpecEntry(BaseModel):
    """A spec in the catalog: where it comes from, every version seen, what is held."""

    source: str
    base_url: str | None = None
    versions: list[SpecVersion]
    """Oldest first; the last one is the newest version read from the source."""
    held: dict[str, str] = Field(default_factory=dict)
    """Operation key (``METHOD /path``, ``MCP tool``: see ``op_key``) -> sha256 of the version
    whose definition stays in use, for the operations whose newer definitions are breaking
    and wait for review."""
    held_changes: list[Change] = Field(default_factory=list)
    """The breaking changes behind ``held``."""

    @property
    def latest(self) -> SpecVersion:
        return self.versions[-1]


class RefreshOutcome(BaseModel):
    """What ``refresh`` did with one spec."""

    source: str
    status: RefreshStatus
    old: SpecVersion
    new: SpecVersion | None = None
    changes: list[Change] = Field(default_factory=list)
    error: str | None = None

    @property
    def breaking(self) -> list[Change]:
        return [c for c in self.changes if c.breaking]


class _Index(BaseModel):
    specs: list[SpecEntry] = Field(default_factory=list)


class SpecRegistry:
    """Specs stored under ``root``.

    Args:
        root: the directory (created on first write).
        client: used for specs at http(s) URLs.
        clock: the import time source (UTC).
    """

    def __init__(
        self,
        root: Path,
        *,
        client: httpx.Client | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.root = Path(root)
        self._client = client
        self._clock = clock or (lambda: datetime.now(UTC))

    # -- reading ------------------------------------------------------------------------

    def list_entries(self) -> list[SpecEntry]:
        """Every stored spec, in the order added (empty when nothing is stored)."""
        return self._load().specs

    def get_entry(self, source: str) -> SpecEntry:
        """The entry for ``source``; ``NotFoundError`` when it is not stored."""
        for entry in self._load().specs:
            if entry.source == source:
                return entry
        raise NotFoundError(
            f"{source!r} is not in the stored catalog (add it with `paddock catalog import --save`)"
        )

    def tools(self, entry: SpecEntry) -> ImportResult:
        """The tools in use for ``entry``: the newest version, except held operations."""
        newest = self._result(entry, entry.latest.sha256)
        tools: list[Tool] = []
        held_from: dict[str, list[Tool]] = {}
        for sha in set(entry.held.values()):
            held_from[sha] = self._result(entry, sha).tools
        kept = {
            key: next((t for t in held_from[sha] if op_key(t) == key), None)
            for key, sha in entry.held.items()
        }
        for tool in newest.tools:
            key = op_key(tool)
            if key not in entry.held:
                tools.append(tool)
            elif (previous := kept.pop(key)) is not None:
                tools.append(previous)
        tools.extend(t for t in kept.values() if t is not None)  # removed upstream, held
        return ImportResult(spec=newest.spec, tools=tools, warnings=newest.warnings)

    def catalog(self) -> Catalog:
        """A catalog of every stored spec's tools in use."""
        catalog = Catalog()
        for entry in self.list_entries():
            catalog.add_result(self.tools(entry))
        return catalog

    # -- writing ------------------------------------------------------------------------

    def add(self, source: str, *, base_url: str | None = None) -> SpecEntry:
        """Read ``source`` and store it; an already stored source is left as it is.

        Raises:
            SpecError: the source cannot be read or is not a spec.
            ConfigError: the source is stored already with different content (refresh it).
        """
        document, raw = _read(source, self._client)
        with self._locked():
            return self._add(source, document, raw, base_url)

    def _add(
        self, source: str, document: dict[str, Any], raw: bytes, base_url: str | None
    ) -> SpecEntry:
        index = self._load()
        existing = next((e for e in index.specs if e.source == source), None)
        sha = self._write_blob(raw)
        if existing is not None:
            if existing.latest.sha256 != sha:
                raise ConfigError(
                    f"{source!r} is stored already and has changed since: "
                    "run `paddock catalog refresh` to review the changes"
                )
            return existing
        entry = SpecEntry(
            source=source, base_url=base_url, versions=[self._version(document, sha, source)]
        )
        index.specs.append(entry)
        self._save(index)
        return entry

    def refresh(
        self, *, sources: list[str] | None = None, accept: bool = False, today: date | None = None
    ) -> list[RefreshOutcome]:
        """Re-read each spec (or just ``sources``), apply what is safe, hold what breaks.

        With ``accept`` the breaking changes are taken too and nothing stays held. Concurrent
        refreshes of the same catalog run one after the other.
        """
        with self._locked():
            return self._refresh(sources, accept=accept, today=today)

    def _refresh(
        self, sources: list[str] | None, *, accept: bool, today: date | None
    ) -> list[RefreshOutcome]:
        index = self._load()
        if sources:
            known = {e.source for e in index.specs}
            missing = [s for s in sources if s not in known]
            if missing:
                raise NotFoundError(f"not in the stored catalog: {', '.join(missing)}")
        outcomes: list[RefreshOutcome] = []
        for i, entry in enumerate(index.specs):
            if sources and entry.source not in sources:
                continue
            try:
                index.specs[i], outcome = self._refresh_one(entry, accept=accept, today=today)
            except PaddockError as exc:
                outcome = RefreshOutcome(
                    source=entry.source, status="error", old=entry.latest, error=exc.message
                )
            outcomes.append(outcome)
        self._save(index)
        return outcomes

    def _refresh_one(
        self, entry: SpecEntry, *, accept: bool, today: date | None
    ) -> tuple[SpecEntry, RefreshOutcome]:
        document, raw = _read(entry.source, self._client)
        sha = self._write_blob(raw)
        old = entry.latest
        if sha == old.sha256 and not (accept and entry.held):
            return entry, RefreshOutcome(
                source=entry.source,
                status="held" if entry.held else "unchanged",
                old=old,
                new=old,
                changes=list(entry.held_changes),
            )
        in_use = self.tools(entry).tools
        new_tools = _import(document, raw, entry.source, entry.base_url).tools
        changes = diff_tools(in_use, new_tools, sunsets=self._sunsets(entry), today=today)
        breaking = [c for c in changes if c.level is Level.BREAKING]
        held: dict[str, str] = {}
        if not accept:
            for change in breaking:
                key = change.operation.rsplit(" (", 1)[0]
                held[key] = entry.held.get(key, old.sha256)
        versions = list(entry.versions)
        if sha != old.sha256:
            versions.append(self._version(document, sha, entry.source))
        updated = entry.model_copy(
            update={"versions": versions, "held": held, "held_changes": [] if accept else breaking}
        )
        status: RefreshStatus = "applied"
        if held:
            status = "held"
        elif accept and (breaking or entry.held):
            status = "accepted"
        return updated, RefreshOutcome(
            source=entry.source, status=status, old=old, new=updated.latest, changes=changes
        )

    # -- storage ------------------------------------------------------------------------

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """An exclusive lock on the catalog directory for one read-modify-write."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @property
    def _index_path(self) -> Path:
        return self.root / "index.json"

    def _blob_path(self, sha: str) -> Path:
        return self.root / "specs" / sha

    def _load(self) -> _Index:
        try:
            text = self._index_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return _Index()
        except OSError as exc:
            raise ConfigError(
                f"cannot read the stored catalog {self._index_path}: {exc.strerror or exc}"
            ) from exc
        try:
            return _Index.model_validate_json(text)
        except ValueError as exc:
            raise ConfigError(
                f"the stored catalog {self._index_path} is damaged: {str(exc).splitlines()[0]}"
            ) from exc

    def _save(self, index: _Index) -> None:
        _atomic_write(self._index_path, index.model_dump_json(indent=1).encode())

    def _write_blob(self, raw: bytes) -> str:
        import hashlib

        sha = hashlib.sha256(raw).hexdigest()
        path = self._blob_path(sha)
        if not path.exists():
            _atomic_write(path, raw)
        return sha

    def _read_blob(self, entry: SpecEntry, sha: str) -> tuple[dict[str, Any], bytes]:
        try:
            raw = self._blob_path(sha).read_bytes()
        except OSError as exc:
            raise ConfigError(f"stored copy {sha[:12]} of {entry.source!r} is missing") from exc
        document = parse_bytes(raw, entry.source)
        if not isinstance(document, dict):
            raise ConfigError(f"stored copy {sha[:12]} of {entry.source!r} is not a spec")
        return document, raw

    def _result(self, entry: SpecEntry, sha: str) -> ImportResult:
        document, raw = self._read_blob(entry, sha)
        return _import(document, raw, entry.source, entry.base_url)

    def _sunsets(self, entry: SpecEntry) -> dict[str, str]:
        found: dict[str, str] = {}
        for sha in {entry.latest.sha256, *entry.held.values()}:
            found.update(sunsets(self._read_blob(entry, sha)[0]))
        return found

    def _version(self, document: dict[str, Any], sha: str, source: str) -> SpecVersion:
        if _is_mcp(source):
            from core.catalog.mcp import listing_title
            from core.mcp.session import MCP_FORMAT

            title, version = listing_title(document)
            return SpecVersion(
                title=title,
                version=version,
                sha256=sha,
                format=MCP_FORMAT,
                imported_at=self._clock(),
            )
        info = document.get("info")
        info = info if isinstance(info, dict) else {}
        return SpecVersion(
            title=str(info.get("title") or Path(source).stem or "spec").strip(),
            version=str(info.get("version", "")),
            sha256=sha,
            format=detect_format(document, source),
            imported_at=self._clock(),
        )


def _is_mcp(source: str) -> bool:
    return source.startswith("mcp+")


def _read(source: str, client: httpx.Client | None) -> tuple[dict[str, Any], bytes]:
    """A spec document, or an MCP server's tool listing, and the bytes to store."""
    if _is_mcp(source):
        from core.mcp.session import fetch_listing

        raw = fetch_listing(source)
        return json.loads(raw), raw
    return load_document(source, client=client)


def _import(
    document: dict[str, Any], raw: bytes, source: str, base_url: str | None
) -> ImportResult:
    if _is_mcp(source):
        from core.catalog.mcp import tools_from_listing

        return tools_from_listing(document, source=source, raw=raw)
    return import_document(document, source=source, raw=raw, base_url=base_url)


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def json_outcome(outcome: RefreshOutcome) -> dict[str, Any]:
    """An outcome as plain JSON (for ``paddock catalog refresh --json``)."""
    data: dict[str, Any] = json.loads(outcome.model_dump_json(exclude={"changes"}))
    data["changes"] = [c.as_json() for c in outcome.changes]
    return data
