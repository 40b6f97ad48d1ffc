"""The bundle's ``overlays/``: each OpenAPI Overlay 1.0 file applied to the spec it extends."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

import yaml

from core.bundles.problems import line_of, yaml_error_line, yaml_lines
from core.catalog import vendor
from core.catalog.loader import is_url
from core.catalog.overlay import apply_overlay, overlay_problems
from core.errors import SpecError
from core.workflows import SpecDocument

OVERLAY_SUFFIXES = (".yaml", ".yml", ".json")


class Reporter(Protocol):
    folder: Path

    def problem(self, file: str | Path, message: str, line: int | None = None) -> None: ...


def apply_overlays(
    report: Reporter, documents: list[SpecDocument], names: Sequence[str] | None
) -> list[SpecDocument]:
    """``documents`` with the overlays applied (in order), vendor labels the operator
    confirmed dropped from ``vendor_labels``; problems go to ``report``."""
    folder = report.folder
    if names is None:
        found = sorted((folder / "overlays").glob("*"))
        paths = [p for p in found if p.suffix in OVERLAY_SUFFIXES]
    else:
        paths = [folder / n for n in names]
    result = list(documents)
    for path in paths:
        rel = path.relative_to(folder).as_posix() if path.is_relative_to(folder) else str(path)
        if not path.is_file():
            report.problem("paddock.yaml", f"overlays: {rel} does not exist")
            continue
        _apply_file(report, path, rel, result)
    return [_confirmed(d) for d in result]


def _apply_file(report: Reporter, path: Path, rel: str, documents: list[SpecDocument]) -> None:
    text = path.read_text(encoding="utf-8")
    try:
        overlay = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        why = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        report.problem(rel, f"not valid YAML: {why}", yaml_error_line(exc))
        return
    lines = yaml_lines(text)
    problems = overlay_problems(overlay)
    for p in problems:
        where = ("actions", p.index) if p.index is not None else ()
        report.problem(rel, p.message, line_of(lines, where))
    if problems:
        return
    index = _target(report, path, rel, overlay, documents, lines)
    if index is None:
        return
    for i, action in enumerate(overlay["actions"]):
        one = {"overlay": overlay["overlay"], "actions": [action]}
        try:
            updated = apply_overlay(documents[index].document, one)
        except SpecError as exc:
            message = str(exc).removeprefix("action 1: ")
            report.problem(rel, f"action {i + 1}: {message}", line_of(lines, ("actions", i)))
            continue
        documents[index] = replace(documents[index], document=updated)


def _target(
    report: Reporter,
    path: Path,
    rel: str,
    overlay: dict[str, Any],
    documents: list[SpecDocument],
    lines: dict[tuple[str | int, ...], int],
) -> int | None:
    extends = overlay.get("extends")
    if extends is None:
        if len(documents) == 1:
            return 0
        report.problem(
            rel,
            f"extends: required to say which of the bundle's {len(documents)} specs this "
            "overlay applies to",
            1,
        )
        return None
    wanted = str(extends)
    for i, doc in enumerate(documents):
        if _same(wanted, doc.source, path.parent, report.folder):
            return i
    report.problem(
        rel, f"extends: {wanted} is not a spec of the bundle's catalog", lines.get(("extends",))
    )
    return None


def _same(wanted: str, source: str, here: Path, folder: Path) -> bool:
    if is_url(wanted) or is_url(source):
        return wanted == source
    candidates = {(here / wanted).resolve(), (folder / wanted).resolve()}
    return Path(source).resolve() in candidates


def _confirmed(doc: SpecDocument) -> SpecDocument:
    if not doc.vendor or not doc.vendor_labels:
        return doc
    operator = vendor.effective_labels(doc.document)
    left = {
        where: {k: v for k, v in labels.items() if k not in operator.get(where, {})}
        for where, labels in doc.vendor_labels.items()
    }
    return replace(doc, vendor_labels={w: ls for w, ls in left.items() if ls})
