"""Load a workflow bundle folder into a :class:`~core.workflows.Workflow`, or say everything that
is wrong with it.

Nothing is softened: a spec that cannot be read, an overlay action that matches nothing, a Cedar
rule that does not type-check against the bundle's own catalog, an agent owning an unknown tool
— each is a :class:`Problem` naming the file (and line where the format has lines), and a bundle
with any problem is never used (there is no fallback to the default policy).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from pydantic import ValidationError

from core.bundles.catalog import workflow_catalog
from core.bundles.manifest import MANIFEST, CatalogEntry, Manifest, placeholders
from core.bundles.manifest import validation_messages as messages
from core.bundles.overlays import apply_overlays
from core.bundles.problems import BundleError, Problem, line_of, yaml_error_line, yaml_lines
from core.catalog import vendor
from core.catalog.loader import is_url, load_document
from core.domain import Tool
from core.errors import ConfigError, PaddockError
from core.workflows import SpecDocument, Workflow

SPEC_SUFFIXES = (".yaml", ".yml", ".json")
_SKIP = ("__pycache__", ".")


def load_bundle(folder: str | Path) -> Workflow:
    """The workflow a bundle folder declares.

    Raises:
        BundleError: anything is wrong with it; ``problems`` lists every problem found.
    """
    workflow, problems = check_bundle(folder)
    if problems or workflow is None:
        raise BundleError(str(folder), problems)
    return workflow


def check_bundle(folder: str | Path) -> tuple[Workflow | None, list[Problem]]:
    """The bundle's workflow (``None`` when it cannot be built) and every problem found."""
    return _Loading(Path(folder)).run()


def bundle_hash(folder: Path) -> str:
    """The content hash of a bundle: every file's relative path and bytes."""
    digest = hashlib.sha256()
    for path in sorted(_files(folder)):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


def _files(folder: Path) -> Iterator[Path]:
    for path in folder.rglob("*"):
        parts = path.relative_to(folder).parts
        if path.is_file() and not any(p.startswith(_SKIP) for p in parts):
            yield path


class _Loading:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.problems: list[Problem] = []

    def problem(self, file: str | Path, message: str, line: int | None = None) -> None:
        name = Path(file).as_posix() if not isinstance(file, str) else file
        self.problems.append(Problem(name, message, line))

    def run(self) -> tuple[Workflow | None, list[Problem]]:
        if not (self.folder / MANIFEST).is_file():
            what = "is not a folder" if not self.folder.is_dir() else f"has no {MANIFEST}"
            self.problem(str(self.folder), f"{what}: a workflow bundle needs {MANIFEST}")
            return None, self.problems
        manifest, lines = self._manifest()
        if manifest is None:
            return None, self.problems
        self._inputs(manifest, lines)
        documents, others = self._specs(manifest, lines)
        documents = apply_overlays(self, documents, manifest.overlays)
        workflow = self._workflow(manifest, documents, others)
        tools = self._tools(workflow)
        if tools is not None:
            self._grant(manifest, tools, lines)
            ask_tools = self._agents(manifest, tools, lines)
            self._policy(tools + ask_tools)
        return (workflow if not self.problems else None), self.problems

    # -- paddock.yaml -------------------------------------------------------------------

    def _manifest(self) -> tuple[Manifest | None, dict[tuple[str | int, ...], int]]:
        text = (self.folder / MANIFEST).read_text(encoding="utf-8")
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            why = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            self.problem(MANIFEST, f"not valid YAML: {why}", yaml_error_line(exc))
            return None, {}
        lines = yaml_lines(text)
        if not isinstance(data, dict):
            self.problem(MANIFEST, "expected a mapping (name, goal, ...)", 1)
            return None, lines
        try:
            return Manifest.model_validate(data), lines
        except ValidationError as exc:
            for loc, message in messages(exc):
                self.problem(MANIFEST, message, line_of(lines, loc))
            return None, lines

    def _inputs(self, manifest: Manifest, lines: dict[tuple[str | int, ...], int]) -> None:
        schema = manifest.inputs
        names = placeholders(manifest.goal)
        if schema is None:
            if names:
                self.problem(
                    MANIFEST,
                    f"goal: placeholders {', '.join(names)} need an inputs schema",
                    line_of(lines, ("goal",)),
                )
            return
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            where = ("inputs", *exc.absolute_path)
            self.problem(
                MANIFEST, f"inputs: not a valid JSON Schema: {exc.message}", line_of(lines, where)
            )
            return
        if schema.get("type") != "object":
            self.problem(
                MANIFEST, "inputs: must be an object schema (type: object)", lines.get(("inputs",))
            )
        known = set(schema.get("properties") or {})
        for name in names:
            if name not in known:
                self.problem(
                    MANIFEST,
                    f"goal: placeholder {{{name}}} is not a property of inputs",
                    line_of(lines, ("goal",)),
                )

    # -- specs ----------------------------------------------------------------------------

    def _specs(
        self, manifest: Manifest, lines: dict[tuple[str | int, ...], int]
    ) -> tuple[list[SpecDocument], list[str]]:
        entries = manifest.entries()
        if entries is None:
            found = sorted(
                p for p in (self.folder / "specs").glob("*") if p.suffix in SPEC_SUFFIXES
            )
            entries = [CatalogEntry(source=p.relative_to(self.folder).as_posix()) for p in found]
            if not entries:
                self.problem(
                    MANIFEST, "no catalog: list sources under catalog: or put specs in specs/"
                )
        documents: list[SpecDocument] = []
        others: list[str] = []
        for i, entry in enumerate(entries):
            line = line_of(lines, ("catalog", i))
            if entry.source.startswith(("mcp+", "python:")):
                others.append(entry.source)
                continue
            spec = self._document(entry, line)
            if spec is not None:
                documents.append(spec)
        return documents, others

    def _document(self, entry: CatalogEntry, line: int | None) -> SpecDocument | None:
        source = entry.source
        if not is_url(source):
            path = (self.folder / source).resolve()
            if not path.is_relative_to(self.folder.resolve()):
                self.problem(MANIFEST, f"catalog: {source} is outside the bundle folder", line)
                return None
            if not path.is_file():
                self.problem(MANIFEST, f"catalog: spec {source} does not exist", line)
                return None
            source = str(path)
        try:
            document, _ = load_document(source)
        except PaddockError as exc:
            self.problem(_rel(self.folder, entry.source), str(exc).removeprefix(f"{source}: "))
            return None
        if entry.author == "operator":
            return SpecDocument(source=source, document=document, vendor=False)
        stripped, labels = vendor.strip_labels(document)
        return SpecDocument(source=source, document=stripped, vendor=True, vendor_labels=labels)

    # -- the workflow and its catalog ------------------------------------------------------

    def _workflow(
        self, manifest: Manifest, documents: list[SpecDocument], others: list[str]
    ) -> Workflow:
        policy = self.folder / "policy"
        agents = self.folder / "agents"
        return Workflow(
            name=manifest.name,
            goal=manifest.goal,
            specs=tuple(others),
            grant=manifest.grant.grant(),
            title=manifest.title or manifest.name,
            description=manifest.description,
            inputs=_defaults(manifest.inputs),
            policy_dir=policy if policy.is_dir() else None,
            agents_dir=agents if agents.is_dir() else None,
            agent=manifest.agent,
            budget=manifest.budget.budget() if manifest.budget else None,
            inputs_schema=manifest.inputs,
            documents=tuple(documents),
            version=bundle_hash(self.folder),
            source=str(self.folder),
            approvals=manifest.approvals.model_dump(),
            four_eyes=manifest.approvals.four_eyes,
        )

    def _tools(self, workflow: Workflow) -> list[Tool] | None:
        if not workflow.documents and not workflow.specs:
            return None
        try:
            return workflow_catalog(workflow).tools
        except PaddockError as exc:
            self.problem(MANIFEST, f"catalog: {exc}")
            return None

    def _grant(
        self, manifest: Manifest, tools: list[Tool], lines: dict[tuple[str | int, ...], int]
    ) -> None:
        known = {t.name for t in tools}
        for i, name in enumerate(manifest.grant.tools or []):
            if name not in known:
                self.problem(
                    MANIFEST,
                    f"grant.tools: {name!r} is not a tool of the catalog",
                    line_of(lines, ("grant", "tools", i)),
                )

    def _agents(
        self, manifest: Manifest, tools: list[Tool], lines: dict[tuple[str | int, ...], int]
    ) -> list[Tool]:
        from core.mesh import load_mesh
        from core.mesh.delegation import ask_tool

        directory = self.folder / "agents"
        if not directory.is_dir():
            if manifest.agent is not None:
                self.problem(MANIFEST, "agent: there is no agents/ folder", lines.get(("agent",)))
            return []
        try:
            mesh = load_mesh(directory)
            mesh.check_tools([t.name for t in tools])
        except ConfigError as exc:
            self.problem("agents", str(exc))
            return []
        if manifest.agent is None:
            self.problem(
                MANIFEST, "agent: required when the bundle has agents/ (the starting agent)"
            )
        elif manifest.agent not in mesh.profiles:
            self.problem(
                MANIFEST,
                f"agent: {manifest.agent!r} is not a profile in agents/ "
                f"({', '.join(mesh.profiles)})",
                lines.get(("agent",)),
            )
        return [ask_tool(p) for p in mesh.profiles.values()]

    def _policy(self, tools: list[Tool]) -> None:
        from core.bundles.policy import policy_problems

        directory = self.folder / "policy"
        if directory.is_dir():
            for file, message, line in policy_problems(directory, tools):
                self.problem(_rel(self.folder, file), message, line)


def _rel(folder: Path, file: str | Path) -> str:
    path = Path(file)
    try:
        return path.resolve().relative_to(folder.resolve()).as_posix()
    except ValueError:
        return str(file)


def _defaults(schema: dict[str, Any] | None) -> dict[str, Any]:
    props = (schema or {}).get("properties") or {}
    return {k: v["default"] for k, v in props.items() if isinstance(v, dict) and "default" in v}
